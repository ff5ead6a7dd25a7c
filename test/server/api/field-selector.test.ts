import { describe, expect, it } from 'vitest';
import { parseFieldSelector } from '../../../src/server/api/selectors/field-selector.ts';
import { supportedFields } from '../../../src/server/api/selectors/supported-fields.ts';
import { ResourceRegistry } from '../../../src/server/registry/index.ts';

const registry = new ResourceRegistry();
const fieldsOf = (plural: string) => supportedFields(registry.resolve('', 'v1', plural)!);
const pod = { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
const podFields = fieldsOf('pods');

describe('field selectors', () => {
  it.each([
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name!=web', false],
    ['spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed', true],
    ['spec.nodeName=n2', false],
    ['status.phase=Running,metadata.namespace=default', true],
    ['spec.nodeName=', false],
  ])('%j matches %s', (sel, want) => {
    expect(parseFieldSelector(sel, podFields).matches(pod)).toBe(want);
  });

  it('reports the pinned name (get NAME -w, informers)', () => {
    expect(parseFieldSelector('metadata.name=web', podFields).name).toBe('web');
    expect(parseFieldSelector('spec.nodeName=n1', podFields).name).toBeUndefined();
  });

  it('rejects unsupported fields with apiserver wording', () => {
    expect(() => parseFieldSelector('spec.containers=x', podFields)).toThrow('field label not supported: spec.containers');
    expect(() => parseFieldSelector('spec.nodeName=x', fieldsOf('configmaps'))).toThrow('field label not supported: spec.nodeName');
  });

  it('rejects terms without an operator', () => {
    expect(() => parseFieldSelector('metadata.name', podFields)).toThrow("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  });

  it('supports the involvedObject fields describe uses on events', () => {
    const ev = { involvedObject: { name: 'web', namespace: 'default', uid: 'u1', kind: 'Deployment' } };
    const sel = parseFieldSelector('involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1,involvedObject.kind=Deployment', fieldsOf('events'));
    expect(sel.matches(ev)).toBe(true);
  });

  it('handles escaped commas and equals signs in values', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b', podFields);
    expect(sel.matches({ metadata: { name: 'a,b' } })).toBe(true);
  });
});
