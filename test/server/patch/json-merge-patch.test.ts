import { describe, expect, it } from 'vitest';
import { applyPatch, PatchError } from '../../../src/server/patch/index.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { fixture } from '../../fixtures/kubectl-bodies/load.ts';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
const widget = { group: 'example.com', version: 'v1', kind: 'Widget' };

function hist(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hist', annotations: { 'deployment.kubernetes.io/revision': '3', other: 'x' } },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'hist' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] } } },
  };
}

function thrown(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PatchError) return err;
    throw err;
  }
  throw new Error('expected a PatchError');
}

describe('JSON patch', () => {
  it("applies kubectl rollout undo's captured patch without touching the input", () => {
    const current = hist();
    const before = structuredClone(current);
    const out = applyPatch('json', current, fixture('rollout-undo.json'), deployment);
    expect(current).toEqual(before);
    expect(out.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
    expect((out.spec as { template: unknown }).template).toEqual({
      metadata: { creationTimestamp: null, labels: { app: 'hist' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.25', resources: {} }] },
    });
    expect((out.spec as { replicas: number }).replicas).toBe(1);
  });

  it('answers 422 in json-patch words for a failed test op', () => {
    const err = thrown(() => applyPatch('json', hist(), Buffer.from('[{"op":"test","path":"/spec/replicas","value":2}]'), deployment));
    expect(err).toMatchObject({ status: 422, reason: 'Invalid', code: 'PATCH_INAPPLICABLE' });
    expect(err.message).toBe('testing value /spec/replicas failed: test failed');
  });

  it('lets replace add a missing key, as json-patch v4 in the apiserver does', () => {
    const out = applyPatch('json', hist(), Buffer.from('[{"op":"replace","path":"/spec/paused","value":true}]'), deployment);
    expect((out.spec as { paused: boolean }).paused).toBe(true);
  });

  it('answers 422 for replace under a missing parent and remove of missing paths', () => {
    expect(thrown(() => applyPatch('json', hist(), Buffer.from('[{"op":"replace","path":"/spec/nope/x","value":true}]'), deployment)).message)
      .toBe('replace operation does not apply: doc is missing key: /spec/nope/x: missing value');
    expect(thrown(() => applyPatch('json', hist(), Buffer.from('[{"op":"remove","path":"/status"}]'), deployment)).status).toBe(422);
    expect(thrown(() => applyPatch('json', hist(), Buffer.from('[{"op":"add","path":"/a/b/c","value":1}]'), deployment)).status).toBe(422);
  });

  it('answers 400 for malformed patches', () => {
    for (const body of ['{"op":"add"}', 'not json', '[{"op":"bogus","path":"/a"}]', '[{"op":"add","path":"a","value":1}]', '[{"op":"add","path":"/a"}]']) {
      const err = thrown(() => applyPatch('json', hist(), Buffer.from(body), deployment));
      expect(err.status, body).toBe(400);
      expect(err.reason).toBe('BadRequest');
    }
  });

  it('applies add, remove, move and copy in order', () => {
    const ops = [
      { op: 'add', path: '/metadata/labels', value: { a: '1' } },
      { op: 'copy', from: '/metadata/labels/a', path: '/metadata/labels/b' },
      { op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/c' },
      { op: 'remove', path: '/metadata/annotations/other' },
    ];
    const out = applyPatch('json', hist(), Buffer.from(JSON.stringify(ops)), deployment);
    expect(out.metadata?.labels).toEqual({ b: '1', c: '1' });
    expect(out.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '3' });
  });
});

describe('merge patch (RFC 7386)', () => {
  it("applies kubectl label's captured patch", () => {
    const out = applyPatch('merge', hist(), fixture('label.json'), deployment);
    expect(out.metadata?.labels).toEqual({ tier: 'frontend' });
    expect(out.metadata?.annotations).toEqual(hist().metadata?.annotations);
  });

  it('deletes with null, replaces lists whole, and works for custom resources', () => {
    const cr: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', labels: { a: '1', b: '2' } }, spec: { list: [1, 2, 3], nested: { x: 1 } } };
    const out = applyPatch('merge', cr, Buffer.from('{"metadata":{"labels":{"a":null}},"spec":{"list":[9],"nested":{"y":2}}}'), widget);
    expect(out).toEqual({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', labels: { b: '2' } }, spec: { list: [9], nested: { x: 1, y: 2 } } });
    expect(cr.metadata?.labels).toEqual({ a: '1', b: '2' });
  });

  it('answers 400 for a body that is not a JSON object', () => {
    expect(thrown(() => applyPatch('merge', hist(), Buffer.from('[1]'), deployment)).status).toBe(400);
    expect(thrown(() => applyPatch('merge', hist(), Buffer.from('{'), deployment)).status).toBe(400);
  });
});

describe('strategic merge patch of a custom resource', () => {
  it('answers 415 with the apiserver message', () => {
    const err = thrown(() => applyPatch('strategic', { apiVersion: 'example.com/v1', kind: 'Widget' }, Buffer.from('{}'), widget));
    expect(err).toMatchObject({ status: 415, reason: 'UnsupportedMediaType', code: 'PATCH_UNSUPPORTED_MEDIA_TYPE' });
    expect(err.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });
});
