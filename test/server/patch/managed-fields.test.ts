import { describe, expect, it } from 'vitest';
import { recordUpdate, type ManagedFieldsEntry } from '../../../src/server/patch/index.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { fixtureJson } from '../../fixtures/kubectl-bodies/load.ts';

const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const t0 = '2026-01-01T00:00:00Z';
const t1 = '2026-01-01T00:01:00Z';

function withManaged(obj: KubeObject, managedFields: ManagedFieldsEntry[]): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, managedFields } };
}

describe('recordUpdate', () => {
  const created = fixtureJson<KubeObject>('apply-create.json');

  it('records a create as one Update entry in FieldsV1 form', () => {
    const mf = recordUpdate('kubectl-client-side-apply', 'Update', undefined, created, gvk, t0);
    expect(mf).toHaveLength(1);
    expect(mf[0]).toMatchObject({ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: t0, fieldsType: 'FieldsV1' });
    const f = mf[0]?.fieldsV1 as Record<string, Record<string, unknown>>;
    // Identity fields are nobody's; maps and list items are members themselves ("."), structs are not.
    expect(Object.keys(f).sort()).toEqual(['f:metadata', 'f:spec']);
    expect(f['f:metadata']).toEqual({
      'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
      'f:labels': { '.': {}, 'f:app': {} },
    });
    const containers = ((f['f:spec']?.['f:template'] as Record<string, Record<string, unknown>>)['f:spec'] as Record<string, Record<string, unknown>>)['f:containers'] as Record<string, unknown>;
    expect(Object.keys(containers).sort()).toEqual(['k:{"name":"log"}', 'k:{"name":"web"}']);
    expect((containers['k:{"name":"web"}'] as Record<string, unknown>)['f:ports']).toEqual({
      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} },
    });
    expect(f['f:spec']?.['f:replicas']).toEqual({});
    // LabelSelector is atomic for apply: owned as one field.
    expect(f['f:spec']?.['f:selector']).toEqual({});
  });

  it('moves changed fields to the updating manager and drops removed ones from everyone', () => {
    const mf0 = recordUpdate('kubectl-client-side-apply', 'Update', undefined, created, gvk, t0);
    const live = withManaged(created, mf0);
    const scaled = structuredClone(live);
    (scaled.spec as { replicas: number }).replicas = 5;
    delete (scaled.metadata?.labels as Record<string, string>).app;
    const mf1 = recordUpdate('kubectl-scale', 'Update', live, scaled, gvk, t1, 'scale');
    const scale = mf1.find((e) => e.manager === 'kubectl-scale');
    expect(scale).toMatchObject({ subresource: 'scale', time: t1, fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    const csa = mf1.find((e) => e.manager === 'kubectl-client-side-apply');
    expect(csa?.time).toBe(t0);
    expect((csa?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']).not.toHaveProperty('f:replicas');
    expect((csa?.fieldsV1 as Record<string, Record<string, unknown>>)['f:metadata']?.['f:labels']).toEqual({});
  });

  it('changes nothing for a no-op update', () => {
    const mf0 = recordUpdate('a', 'Update', undefined, created, gvk, t0);
    const live = withManaged(created, mf0);
    expect(recordUpdate('b', 'Update', live, structuredClone(live), gvk, t1)).toEqual(mf0);
  });

  it('gives objects without managedFields a before-first-apply owner', () => {
    const changed = structuredClone(created);
    (changed.spec as { replicas: number }).replicas = 9;
    const mf = recordUpdate('kubectl-edit', 'Update', created, changed, gvk, t1);
    expect(mf.map((e) => e.manager).sort()).toEqual(['before-first-apply', 'kubectl-edit']);
    expect(mf.find((e) => e.manager === 'kubectl-edit')?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });
});
