/**
 * Every served built-in kind has one descriptor (src/server/kinds), and every facet of it is
 * either present and usable or deliberately absent with a reason (`none('why')`), never undefined
 * by accident. The expectations table below says which kinds have the facets most kinds do
 * without, so a facet dropped by mistake (or added without its consumer knowing) fails here.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_KINDS, isNone, present } from '../../../src/server/kinds/index.ts';
import type { BuiltinKind, KubeObject } from '../../../src/server/kinds/index.ts';
import { typeFor } from '../../../src/server/protobuf/registry.ts';
import { ResourceRegistry, objectKey } from '../../../src/server/registry/index.ts';

const FACETS = [
  'group', 'versions', 'kind', 'plural', 'namespaced', 'shortNames', 'categories', 'verbs', 'subresources', 'storage',
  'ttlSeconds', 'tracksGeneration', 'keepStatusOnCreate', 'computed',
  'defaults', 'validate', 'table', 'hooks', 'deletion', 'fieldSelectors', 'mergeKeys', 'protobuf', 'conversion',
] as const satisfies readonly (keyof BuiltinKind)[];

const id = (k: BuiltinKind): string => `${k.group}/${k.kind}`;
const withFacet = (facet: keyof BuiltinKind): string[] => BUILTIN_KINDS.filter((k) => !isNone(k[facet])).map(id).sort();

const COMPUTED = [
  'authentication.k8s.io/SelfSubjectReview', 'authentication.k8s.io/TokenReview', 'authorization.k8s.io/LocalSubjectAccessReview', 'authorization.k8s.io/SelfSubjectAccessReview',
  'authorization.k8s.io/SelfSubjectRulesReview', 'authorization.k8s.io/SubjectAccessReview', 'metrics.k8s.io/NodeMetrics', 'metrics.k8s.io/PodMetrics',
];

function sample(k: BuiltinKind): KubeObject {
  return { apiVersion: k.group ? `${k.group}/${k.versions[0]}` : k.versions[0], kind: k.kind, metadata: { name: 'n', ...(k.namespaced ? { namespace: 'default' } : {}) } };
}

describe('kind descriptors', () => {
  it('every served built-in resource comes from exactly one descriptor', () => {
    const served = new ResourceRegistry().all().filter((r) => !r.custom);
    expect(served.length).toBeGreaterThan(0);
    for (const r of served) {
      expect(r.builtin, `${r.group}/${r.plural}`).toBeDefined();
      expect(BUILTIN_KINDS).toContain(r.builtin);
    }
    expect(new Set(BUILTIN_KINDS.map(id)).size).toBe(BUILTIN_KINDS.length);
    expect(served.length).toBe(BUILTIN_KINDS.reduce((n, k) => n + k.versions.length, 0));
  });

  it.each(BUILTIN_KINDS.map((k) => [id(k), k] as const))('%s: every facet is present or absent with a reason', (_, k) => {
    for (const facet of FACETS) {
      const value = k[facet];
      expect(value, facet).toBeDefined();
      if (isNone(value)) expect(value.none, `${facet}: the reason`).toMatch(/\w{3}/);
    }
    expect(k.versions.length).toBeGreaterThan(0);
    expect(k.storage).toMatch(/^[a-z0-9.-]+$/);
  });

  it('computed kinds do without every write facet; stored kinds validate, print and patch', () => {
    expect(withFacet('computed')).toEqual(COMPUTED);
    for (const k of BUILTIN_KINDS) {
      const stored = isNone(k.computed);
      for (const facet of ['validate', 'table', 'mergeKeys'] as const) expect(isNone(k[facet]), `${id(k)} ${facet}`).toBe(!stored);
      if (!stored) for (const facet of ['defaults', 'hooks', 'deletion', 'fieldSelectors', 'conversion', 'ttlSeconds'] as const) expect(isNone(k[facet]), `${id(k)} ${facet}`).toBe(true);
    }
  });

  it('has the facets most kinds do without exactly where they belong', () => {
    expect(withFacet('hooks')).toEqual(['/Namespace', '/PersistentVolume', '/PersistentVolumeClaim', '/Pod', '/Service', 'apiextensions.k8s.io/CustomResourceDefinition']);
    expect(withFacet('deletion')).toEqual(['/Namespace', '/Pod']);
    expect(withFacet('conversion')).toEqual(['autoscaling/HorizontalPodAutoscaler', 'events.k8s.io/Event']);
    expect(withFacet('ttlSeconds')).toEqual(['/Event', 'events.k8s.io/Event']);
    expect(withFacet('fieldSelectors')).toEqual([
      '/Event', '/Namespace', '/Node', '/Pod', '/Secret', '/Service', 'apps/ReplicaSet', 'batch/Job',
      'certificates.k8s.io/CertificateSigningRequest', 'events.k8s.io/Event',
    ]);
    // Every kind has upstream protobuf messages except what only the server writes (metrics) and
    // edgeos's own kinds (no client has a protobuf message for them; kubectl sends them as JSON).
    expect(BUILTIN_KINDS.filter((k) => isNone(k.protobuf)).map(id).sort()).toEqual([
      'apps.edgeos.io/NodePool', 'apps.edgeos.io/PoolSet', 'metrics.k8s.io/NodeMetrics', 'metrics.k8s.io/PodMetrics',
    ]);
  });

  it.each(BUILTIN_KINDS.filter((k) => isNone(k.computed)).map((k) => [id(k), k] as const))('%s: present facets work on an object of the kind', (_, k) => {
    const obj = sample(k);
    present(k.defaults)?.(obj);
    expect(Array.isArray(present(k.validate)?.(obj, undefined))).toBe(true);
    const table = present(k.table);
    expect(table?.row(obj, new Date()).length).toBe(table?.columns.length);
    const merge = present(k.mergeKeys);
    expect(merge?.type).toBe('struct');
    expect(merge?.fields.metadata?.type).toBe('struct');
    for (const [field, read] of Object.entries(present(k.fieldSelectors) ?? {})) expect(typeof read(obj), field).toBe('string');
    for (const v of k.versions) {
      const apiVersion = k.group ? `${k.group}/${v}` : v;
      if (present(k.protobuf)) expect(typeFor(apiVersion, k.kind)?.name, `${apiVersion}/${k.kind}`).toBe(k.kind);
    }
    const hooks = present(k.hooks);
    if (hooks) expect(Object.keys(hooks).length).toBeGreaterThan(0);
    const deletion = present(k.deletion);
    if (deletion) expect(Object.keys(deletion).length).toBeGreaterThan(0);
  });

  it('names a generic handler for every subresource', () => {
    const handlers = new Set(['status', 'finalize', 'scale', 'binding', 'eviction', 'log', 'stream', 'proxy', 'token', 'ephemeralcontainers']);
    for (const k of BUILTIN_KINDS) {
      for (const s of k.subresources) expect(handlers.has(s.handler), `${id(k)} ${s.name}`).toBe(true);
      expect(new Set(k.subresources.map((s) => s.name)).size).toBe(k.subresources.length);
    }
  });

  it('shares a storage segment only through a conversion to the stored form', () => {
    const stored = BUILTIN_KINDS.filter((k) => isNone(k.computed));
    for (const segment of new Set(stored.map((k) => k.storage))) {
      const sharing = stored.filter((k) => k.storage === segment);
      // One kind owns the stored form; every other one converts to it.
      if (sharing.length > 1) expect(sharing.filter((k) => isNone(k.conversion)).map(id), segment).toHaveLength(1);
    }
    const registry = new ResourceRegistry();
    const core = registry.resolve('', 'v1', 'events')!;
    const v1 = registry.resolve('events.k8s.io', 'v1', 'events')!;
    expect(objectKey(v1, 'default', 'e')).toBe(objectKey(core, 'default', 'e'));
  });

  it('converts events.k8s.io Events to the stored core form and back', () => {
    const k = BUILTIN_KINDS.find((x) => x.group === 'events.k8s.io')!;
    const c = present(k.conversion)!;
    const served = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e' }, regarding: { kind: 'Pod', name: 'p' }, note: 'hi', reportingController: 'me', deprecatedCount: 2 };
    const stored = c.toStorage(structuredClone(served));
    expect(stored).toEqual({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' }, message: 'hi', reportingComponent: 'me', count: 2 });
    expect(c.fromStorage(stored)).toEqual({ ...served, apiVersion: 'v1' });
  });

  it('reads the computed field selectors the way apiserver does', () => {
    const fields = (group: string, kind: string) => present(BUILTIN_KINDS.find((k) => k.group === group && k.kind === kind)!.fieldSelectors)!;
    const pod = fields('', 'Pod');
    expect(pod['spec.hostNetwork']!({ spec: {} })).toBe('false');
    expect(pod['status.podIPs']!({ status: { podIP: '10.42.0.5' } })).toBe('10.42.0.5');
    expect(fields('', 'Node')['spec.unschedulable']!({})).toBe('false');
    const event = fields('', 'Event');
    expect(event.source!({ source: { component: 'kubelet' } })).toBe('kubelet');
    expect(event.source!({ reportingComponent: 'scheduler' })).toBe('scheduler');
  });
});
