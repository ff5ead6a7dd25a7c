import { describe, expect, it } from 'vitest';
import { applyConflictMessage, ApplyRequestError, parseApplyBody, recordUpdate, serverSideApply } from '../../../src/server/patch/index.ts';
import type { ApplyResult } from '../../../src/server/patch/index.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { fixture, fixtureJson } from '../../fixtures/kubectl-bodies/load.ts';

const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const t0 = '2026-01-01T00:00:00Z';
const t1 = '2026-01-01T00:01:00Z';

function ok(r: ApplyResult): KubeObject {
  if (!r.ok) throw new Error(`unexpected conflicts: ${applyConflictMessage(r.conflicts)}`);
  return r.object;
}

function deploy(replicas: number, image: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 80 }], ...extra }] } },
    },
  };
}

const spec = (o: KubeObject) => o.spec as { replicas: number; template: { spec: { containers: Record<string, unknown>[] } } };

describe('serverSideApply', () => {
  it('creates from the captured kubectl apply --server-side body with an Apply entry', () => {
    const applied = parseApplyBody(fixture('apply-server-side.1.yaml'));
    const obj = ok(serverSideApply({ live: undefined, applied, gvk, manager: 'kubectl', force: false, now: t0 }));
    expect(obj.spec).toEqual(applied.spec);
    const [entry, ...rest] = obj.metadata?.managedFields as Record<string, unknown>[];
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: t0, fieldsType: 'FieldsV1' });
    const fields = entry?.fieldsV1 as Record<string, Record<string, Record<string, unknown>>>;
    // Apply sets list leaves and items; maps are not members themselves.
    expect(fields['f:metadata']).toEqual({ 'f:labels': { 'f:app': {} } });
    const web = (((fields['f:spec']?.['f:template'] as Record<string, Record<string, Record<string, unknown>>>)['f:spec'] as Record<string, Record<string, unknown>>)['f:containers'] as Record<string, Record<string, unknown>>)['k:{"name":"web"}'];
    expect(web?.['f:ports']).toEqual({ 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} } });
  });

  it("conflicts with client-side apply's fields, in kubectl's words", () => {
    const created = fixtureJson<KubeObject>('apply-create.json');
    const live = { ...created, metadata: { ...created.metadata, managedFields: recordUpdate('kubectl-client-side-apply', 'Update', undefined, created, gvk, t0) } };
    const r = serverSideApply({ live, applied: deploy(3, 'nginx:1.25'), gvk, manager: 'kubectl', force: false, now: t1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.conflicts).toEqual([{ manager: 'kubectl-client-side-apply', field: '.spec.replicas', apiVersion: 'apps/v1', message: 'conflict with "kubectl-client-side-apply" using apps/v1' }]);
    expect(applyConflictMessage(r.conflicts)).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  });

  it('keeps the entry time when a re-apply changes nothing', () => {
    const live = ok(serverSideApply({ live: undefined, applied: deploy(2, 'nginx:1'), gvk, manager: 'a', force: false, now: t0 }));
    const again = ok(serverSideApply({ live, applied: deploy(2, 'nginx:1'), gvk, manager: 'a', force: false, now: t1 }));
    expect(again).toEqual(live);
    const changed = ok(serverSideApply({ live, applied: deploy(3, 'nginx:1'), gvk, manager: 'a', force: false, now: t1 }));
    expect((changed.metadata?.managedFields as { time: string }[])[0]?.time).toBe(t1);
  });

  it('does not conflict when the value is the same: ownership is shared', () => {
    const live = ok(serverSideApply({ live: undefined, applied: deploy(2, 'nginx:1'), gvk, manager: 'a', force: false, now: t0 }));
    const both = ok(serverSideApply({ live, applied: deploy(2, 'nginx:1'), gvk, manager: 'b', force: false, now: t1 }));
    const managers = (both.metadata?.managedFields as { manager: string }[]).map((e) => e.manager);
    expect(managers).toEqual(['a', 'b']);
  });

  it('lists several conflicts grouped by manager, and force takes them over', () => {
    const live = ok(serverSideApply({ live: undefined, applied: deploy(2, 'nginx:1'), gvk, manager: 'a', force: false, now: t0 }));
    const r = serverSideApply({ live, applied: deploy(3, 'nginx:2'), gvk, manager: 'b', force: false, now: t1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(applyConflictMessage(r.conflicts)).toBe(
      'Apply failed with 2 conflicts: conflicts with "a":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
    const forced = ok(serverSideApply({ live, applied: deploy(3, 'nginx:2'), gvk, manager: 'b', force: true, now: t1 }));
    expect(spec(forced).replicas).toBe(3);
    const a = (forced.metadata?.managedFields as { manager: string; fieldsV1: Record<string, Record<string, unknown>> }[]).find((e) => e.manager === 'a');
    expect(a?.fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
  });

  it("conflicts with kubectl scale's update through the scale subresource", () => {
    const live = ok(serverSideApply({ live: undefined, applied: deploy(2, 'nginx:1'), gvk, manager: 'kubectl', force: false, now: t0 }));
    const scaled = structuredClone(live);
    spec(scaled).replicas = 5;
    scaled.metadata = { ...scaled.metadata, managedFields: recordUpdate('kubectl', 'Update', live, scaled, { group: 'apps', version: 'v1', kind: 'Deployment' }, t1, 'scale') };
    const r = serverSideApply({ live: scaled, applied: deploy(2, 'nginx:1'), gvk, manager: 'kubectl', force: false, now: t1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(applyConflictMessage(r.conflicts)).toBe('Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
  });

  it('removes fields the manager stopped applying, unless another manager owns them', () => {
    const v1 = deploy(2, 'nginx:1', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    const live = ok(serverSideApply({ live: undefined, applied: v1, gvk, manager: 'kubectl', force: false, now: t0 }));
    // Another manager (an Update) sets label tier and takes over env B's value.
    const edited = structuredClone(live);
    (edited.metadata?.labels as Record<string, string>).tier = 'fe';
    (spec(edited).template.spec.containers[0]?.env as { name: string; value: string }[])[1]!.value = '22';
    edited.metadata = { ...edited.metadata, managedFields: recordUpdate('kubectl-edit', 'Update', live, edited, gvk, t1) };
    const v2 = deploy(2, 'nginx:1', { env: [] });
    const out = ok(serverSideApply({ live: edited, applied: v2, gvk, manager: 'kubectl', force: false, now: t1 }));
    // A was only kubectl's: gone. B's value is kubectl-edit's: B stays.
    expect(spec(out).template.spec.containers[0]?.env).toEqual([{ name: 'B', value: '22' }]);
    expect(out.metadata?.labels).toEqual({ app: 'web', tier: 'fe' });
  });

  it('merges into fields it does not own and leaves them to their owners', () => {
    const live = ok(serverSideApply({ live: undefined, applied: deploy(2, 'nginx:1'), gvk, manager: 'kubectl', force: false, now: t0 }));
    const withSidecar = structuredClone(live);
    spec(withSidecar).template.spec.containers.push({ name: 'side', image: 'busybox' });
    withSidecar.metadata = { ...withSidecar.metadata, managedFields: recordUpdate('injector', 'Update', live, withSidecar, gvk, t1) };
    const out = ok(serverSideApply({ live: withSidecar, applied: deploy(2, 'nginx:2'), gvk, manager: 'kubectl', force: false, now: t1 }));
    expect(spec(out).template.spec.containers.map((c) => `${String(c.name)}=${String(c.image)}`)).toEqual(['web=nginx:2', 'side=busybox']);
  });

  it('ignores status on the main resource and rejects managedFields in the configuration', () => {
    const withStatus = { ...deploy(1, 'x'), status: { replicas: 7 } };
    const obj = ok(serverSideApply({ live: undefined, applied: withStatus, gvk, manager: 'kubectl', force: false, now: t0 }));
    expect(obj).not.toHaveProperty('status');
    const bad = { ...deploy(1, 'x'), metadata: { name: 'web', managedFields: [] } };
    expect(() => serverSideApply({ live: undefined, applied: bad, gvk, manager: 'kubectl', force: false, now: t0 })).toThrow(ApplyRequestError);
  });

  it('rejects an associative list item without its key', () => {
    const noName = deploy(1, 'x');
    delete spec(noName).template.spec.containers[0]!.name;
    expect(() => serverSideApply({ live: undefined, applied: noName, gvk, manager: 'kubectl', force: false, now: t0 }))
      .toThrow(/associative list with keys has an element that omits key field "name"/);
  });

  it('rejects duplicate keys in an associative list', () => {
    const twice = deploy(1, 'x');
    spec(twice).template.spec.containers.push({ name: 'web', image: 'y' });
    expect(() => serverSideApply({ live: undefined, applied: twice, gvk, manager: 'kubectl', force: false, now: t0 }))
      .toThrow('.spec.template.spec.containers: duplicate entries for key [name="web"]');
  });

  it('owns an empty list as one field', () => {
    const obj = ok(serverSideApply({ live: undefined, applied: deploy(1, 'x', { env: [] }), gvk, manager: 'kubectl', force: false, now: t0 }));
    expect(JSON.stringify(obj.metadata?.managedFields)).toContain('"f:env":{}');
  });

  it('parses apply bodies as JSON or YAML', () => {
    expect(parseApplyBody(Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  on: "yes"\n'))).toEqual({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { on: 'yes' },
    });
    expect(() => parseApplyBody(Buffer.from('- a\n- b\n'))).toThrow(/must be an object/);
  });
});
