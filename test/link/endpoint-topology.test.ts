// Service topology, the pure part: which endpoints of a Service each node gets (scopes from the
// annotation or trafficDistribution, the Service-wide fallback), and the per-node state that
// re-sends exactly the slices whose filtered form changed when a slice, the Service, the node's
// pool or another node's pool changes.
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { describe, expect, it } from 'vitest';
import { TOPOLOGY_ANNOTATION, parseTopology } from '../../src/common/pools.ts';
import { EndpointTopology, filterSlices, topologyOf } from '../../src/server/link/endpoint-topology.ts';
import type { NodePlace } from '../../src/server/link/endpoint-topology.ts';
import type { KubeObjectJson } from '../../src/common/link/protocol.ts';

const pools: Record<string, string> = { a1: 'a', a2: 'a', b1: 'b', b2: 'b' };

function svc(topology?: string, spec: Record<string, unknown> = {}): Service {
  return { metadata: { name: 'web', namespace: 'ns', ...(topology !== undefined ? { annotations: { [TOPOLOGY_ANNOTATION]: topology } } : {}) }, spec: { selector: { app: 'web' }, ...spec } };
}

/** `eps` as "ip@node" or "ip@node:notready". */
function slice(name: string, ...eps: string[]): EndpointSlice {
  return {
    metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: eps.map((e) => {
      const [ip, rest] = e.split('@') as [string, string];
      const [nodeName, state] = rest.split(':');
      return { addresses: [ip], ...(nodeName ? { nodeName } : {}), conditions: { ready: state !== 'notready' } };
    }),
  };
}

const at = (node: string, place: Record<string, string> = pools): NodePlace => ({ node, pool: place[node], poolOf: (n) => place[n] });
const ips = (slices: EndpointSlice[]) => slices.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();

describe('topology scopes', () => {
  it('parses the annotation and refuses what is no scope list, naming the part', () => {
    expect(parseTopology('pool')).toEqual(['pool']);
    expect(parseTopology('pool,*')).toEqual(['pool', '*']);
    expect(parseTopology('node, pool ,*')).toEqual(['node', 'pool', '*']);
    expect(parseTopology('zone')).toEqual({ error: expect.stringContaining('"zone" is not a topology scope') });
    expect(parseTopology('pool,pool')).toEqual({ error: '"pool" is named twice' });
    expect(parseTopology('*,pool')).toEqual({ error: '"*" (every endpoint) must come last' });
    expect(parseTopology('')).toEqual({ error: expect.stringContaining('"" is not') });
  });

  it('takes the annotation over trafficDistribution; PreferClose is node, then pool, then all', () => {
    expect(topologyOf(svc('pool'))).toEqual(['pool']);
    expect(topologyOf(svc(undefined, { trafficDistribution: 'PreferClose' }))).toEqual(['node', 'pool', '*']);
    expect(topologyOf(svc(undefined, { trafficDistribution: 'PreferSameNode' }))).toEqual(['node', '*']);
    expect(topologyOf(svc(undefined, { trafficDistribution: 'PreferSameZone' }))).toEqual(['pool', '*']);
    expect(topologyOf(svc('node', { trafficDistribution: 'PreferClose' }))).toEqual(['node']);
    expect(topologyOf(svc())).toBeUndefined();
    expect(topologyOf(svc('*'))).toBeUndefined();
    expect(topologyOf(svc('bogus', { trafficDistribution: 'PreferClose' }))).toBeUndefined();
  });
});

describe('filterSlices', () => {
  const slices = [slice('web-1', '10.0.0.1@a1', '10.0.0.3@b1'), slice('web-2', '10.0.0.2@a2', '10.0.0.4@b2', '10.0.0.9@')];

  it('pool: the node gets its pool\'s endpoints from every slice, slice names and ports kept', () => {
    const out = filterSlices(['pool'], svc('pool'), slices, at('a1'));
    expect(out.map((s) => s.metadata?.name)).toEqual(['web-1', 'web-2']);
    expect(ips(out)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(out[0]!.ports).toEqual(slices[0]!.ports);
    expect(ips(filterSlices(['pool'], svc('pool'), slices, at('b2')))).toEqual(['10.0.0.3', '10.0.0.4']);
  });

  it('node: only the node\'s own endpoints, and none when it has none (no fallback without *)', () => {
    expect(ips(filterSlices(['node'], svc(), slices, at('a2')))).toEqual(['10.0.0.2']);
    const none = filterSlices(['node'], svc(), slices, at('c1', { c1: 'c' }));
    expect(none.map((s) => s.endpoints)).toEqual([[], []]);
    expect(none.map((s) => s.metadata?.name)).toEqual(['web-1', 'web-2']);
  });

  it('pool,*: every endpoint only when the pool has no serving one', () => {
    const place = at('c1', { ...pools, c1: 'c' });
    expect(ips(filterSlices(['pool'], svc(), slices, place))).toEqual([]);
    expect(ips(filterSlices(['pool', '*'], svc(), slices, place))).toHaveLength(5);
    // The pool's only endpoint not ready: the fallback, as Kubernetes falls back from a zone.
    const notReady = [slice('web-1', '10.0.0.1@a1:notready', '10.0.0.3@b1')];
    expect(ips(filterSlices(['pool', '*'], svc(), notReady, at('a2')))).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(ips(filterSlices(['pool'], svc(), notReady, at('a2')))).toEqual(['10.0.0.1']);
    // publishNotReadyAddresses: not ready is as good as ready.
    expect(ips(filterSlices(['pool', '*'], svc(undefined, { publishNotReadyAddresses: true }), notReady, at('a2')))).toEqual(['10.0.0.1']);
  });

  it('PreferClose: same node, else same pool, else all', () => {
    const close = topologyOf(svc(undefined, { trafficDistribution: 'PreferClose' }))!;
    expect(ips(filterSlices(close, svc(), slices, at('b1')))).toEqual(['10.0.0.3']);
    expect(ips(filterSlices(close, svc(), slices, at('a1', { ...pools, a3: 'a' })))).toEqual(['10.0.0.1']);
    expect(ips(filterSlices(close, svc(), slices, at('a3', { ...pools, a3: 'a' })))).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(ips(filterSlices(close, svc(), slices, at('c1', { c1: 'c' })))).toHaveLength(5);
  });

  it('a node in no pool is not filtered by pool; an endpoint without a node is in no pool', () => {
    expect(ips(filterSlices(['pool'], svc(), slices, at('server', {})))).toHaveLength(5);
    expect(ips(filterSlices(['pool'], svc(), slices, at('a1')))).not.toContain('10.0.0.9');
  });

  it('returns a slice untouched when nothing is filtered out of it', () => {
    const out = filterSlices(['pool', '*'], svc(), slices, at('c1', { c1: 'c' }));
    expect(out[0]).toBe(slices[0]);
  });
});

// The feed hands the per-node state JSON objects.
const jslice = (name: string, ...eps: string[]) => slice(name, ...eps) as unknown as KubeObjectJson;
const jsvc = (topology?: string, spec: Record<string, unknown> = {}) => svc(topology, spec) as unknown as KubeObjectJson;

describe('EndpointTopology', () => {
  function view(node: string, place: Record<string, string>) {
    return new EndpointTopology({ node, get pool() { return place[node]; }, poolOf: (n) => place[n] });
  }
  const names = (changes: { name: string; object?: unknown }[]) => changes.map((c) => `${c.name}${c.object ? '' : ' deleted'}`);
  const ipsOf = (changes: { object?: unknown }[]) => ips(changes.flatMap((c) => (c.object ? [c.object as EndpointSlice] : [])));

  it('loads filtered slices for Services with a topology and passes the others through', () => {
    const place = { ...pools };
    const v = view('a1', place);
    const other = { ...jslice('api-1', '10.0.1.1@b1'), metadata: { name: 'api-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'api' } } };
    const out = v.load([jsvc('pool')], [jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1'), other]);
    expect(out.map((s) => (s.metadata as { name: string }).name).sort()).toEqual(['api-1', 'web-1']);
    expect(ips(out as unknown as EndpointSlice[])).toEqual(['10.0.0.1', '10.0.1.1']);
    expect(v.active).toBe(true);
    // A pass-through slice is not kept: its change goes out as it is.
    expect(v.slice('ns', 'api-1', other)).toEqual([{ kind: 'EndpointSlice', namespace: 'ns', name: 'api-1', object: other }]);
  });

  it('sends a slice change only when the node\'s filtered form changes', () => {
    const v = view('a1', { ...pools });
    v.load([jsvc('pool')], [jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1')]);
    // A pool-b endpoint comes and goes: node a1's view is the same, nothing crosses the link.
    expect(v.slice('ns', 'web-1', jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1', '10.0.0.5@b2'))).toEqual([]);
    const grown = v.slice('ns', 'web-1', jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1', '10.0.0.5@a2'));
    expect(names(grown)).toEqual(['web-1']);
    expect(ipsOf(grown)).toEqual(['10.0.0.1', '10.0.0.5']);
  });

  it('re-filters every slice of the Service when one changes the fallback, and passes deletions', () => {
    const place: Record<string, string> = { ...pools, c1: 'c' };
    const v = view('c1', place);
    const first = v.load([jsvc('pool,*')], [jslice('web-1', '10.0.0.1@a1'), jslice('web-2', '10.0.0.3@b1')]);
    expect(ips(first as unknown as EndpointSlice[])).toEqual(['10.0.0.1', '10.0.0.3']);
    place.c2 = 'c';
    // Pool c gets an endpoint in web-2: web-1 loses its (fallback) endpoint too.
    const changed = v.slice('ns', 'web-2', jslice('web-2', '10.0.0.3@b1', '10.0.0.7@c2'));
    expect(names(changed).sort()).toEqual(['web-1', 'web-2']);
    expect(ipsOf(changed)).toEqual(['10.0.0.7']);
    // web-2 deleted: back to the fallback for web-1, and the deletion itself.
    const deleted = v.slice('ns', 'web-2', undefined, jslice('web-2', '10.0.0.3@b1', '10.0.0.7@c2'));
    expect(names(deleted)).toEqual(['web-1', 'web-2 deleted']);
    expect(ipsOf(deleted)).toEqual(['10.0.0.1']);
  });

  it('a Service gaining a topology re-sends its slices filtered; losing it, whole', async () => {
    const v = view('b1', { ...pools });
    const stored = [jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1', '10.0.0.4@b2')];
    expect(v.load([jsvc()], stored).map((s) => ips([s as unknown as EndpointSlice]))).toEqual([['10.0.0.1', '10.0.0.3', '10.0.0.4']]);
    expect(v.active).toBe(false);
    let reads = 0;
    const read = async () => {
      reads++;
      return stored;
    };
    const gained = await v.service('ns', 'web', jsvc('pool'), read);
    expect(reads).toBe(1);
    expect(ipsOf(gained)).toEqual(['10.0.0.3', '10.0.0.4']);
    // Scopes change (pool → node): re-filtered from what is kept, no read.
    expect(ipsOf(await v.service('ns', 'web', jsvc('node'), read))).toEqual(['10.0.0.3']);
    expect(await v.service('ns', 'web', jsvc('node', { type: 'ClusterIP' }), read)).toEqual([]);
    expect(reads).toBe(1);
    const lost = await v.service('ns', 'web', jsvc(), read);
    expect(ipsOf(lost)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    expect(v.active).toBe(false);
    // Slices of a Service without topology are not kept.
    expect(v.slice('ns', 'web-1', stored[0]!)).toHaveLength(1);
  });

  it('a deleted Service is forgotten without re-sending its slices', async () => {
    const v = view('a1', { ...pools });
    v.load([jsvc('pool')], [jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1')]);
    expect(await v.service('ns', 'web', undefined, async () => [])).toEqual([]);
    expect(v.active).toBe(false);
  });

  it('re-filters when the node moves to another pool or an endpoint\'s node does', () => {
    const place: Record<string, string> = { ...pools };
    const v = view('a1', place);
    v.load([jsvc('pool')], [jslice('web-1', '10.0.0.1@a1', '10.0.0.3@b1', '10.0.0.4@b2')]);
    expect(v.poolsChanged()).toEqual([]);
    place.a1 = 'b';
    expect(ipsOf(v.poolsChanged())).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    place.b2 = 'c';
    expect(ipsOf(v.poolsChanged())).toEqual(['10.0.0.1', '10.0.0.3']);
    // forgetSent: everything filtered goes out again even though nothing changed.
    expect(ipsOf(v.forgetSent())).toEqual(['10.0.0.1', '10.0.0.3']);
  });
});
