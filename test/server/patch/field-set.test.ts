import { describe, expect, it } from 'vitest';
import { fieldElement, formatPath, joinPath, keyElement, valueElement } from '../../../src/server/patch/field-path.ts';
import { fromFieldsV1, toFieldsV1 } from '../../../src/server/patch/field-set.ts';

const path = (...elements: string[]) => elements.reduce<string>((p, e) => joinPath(p, e), '');

describe('FieldsV1', () => {
  // Shape as kube-apiserver writes it for a Deployment created by kubectl.
  const fieldsV1 = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } },
          },
        },
      },
    },
  };

  it('round-trips', () => {
    const set = fromFieldsV1(fieldsV1);
    expect(set.size).toBe(7);
    expect(set.has(path('f:metadata', 'f:labels'))).toBe(true);
    expect(set.has(path('f:metadata'))).toBe(false);
    expect(toFieldsV1(set)).toEqual(fieldsV1);
  });

  it('ignores malformed input instead of failing', () => {
    expect(fromFieldsV1('nope').size).toBe(0);
    expect([...fromFieldsV1({ 'f:a': 1, 'f:b': {} })]).toEqual(['f:b']);
  });

  it('sorts key fields in k: elements', () => {
    expect(keyElement({ protocol: 'TCP', containerPort: 80 })).toBe('k:{"containerPort":80,"protocol":"TCP"}');
  });
});

describe('formatPath', () => {
  it.each([
    [path('f:spec', 'f:replicas'), '.spec.replicas'],
    [path('f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'), '.spec.template.spec.containers[name="web"].image'],
    [path('f:spec', 'f:ports', keyElement({ port: 80, protocol: 'TCP' })), '.spec.ports[port=80,protocol="TCP"]'],
    [path(fieldElement('metadata'), fieldElement('finalizers'), valueElement('x')), '.metadata.finalizers[="x"]'],
    [path('f:list', 'i:3'), '.list[3]'],
  ])('%j → %s', (p, text) => {
    expect(formatPath(p)).toBe(text);
  });
});
