// Service topology in the node feed, on a real SQLite store and the feed hub: a node's feed carries
// only its pool's endpoints of a `pool` Service, re-sends the slices when another node changes
// pool (the hub's pool index), when the node itself does, and when the Service's annotation changes
// or goes; a resumed feed sends the filtered slices again and carries on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObjectJson, LinkKind, ObjectChange } from '../../src/common/link/protocol.ts';
import { silentLogger } from '../../src/common/log.ts';
import { TOPOLOGY_ANNOTATION } from '../../src/common/pools.ts';
import { FeedHub } from '../../src/server/link/feed-hub.ts';
import { startNodeFeed } from '../../src/server/link/node-feed.ts';
import type { FeedSink } from '../../src/server/link/types.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { SqliteStore } from '../../src/store/index.ts';
import { waitFor } from './harness.ts';

let store: SqliteStore;
let hub: FeedHub;
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const nodeKey = (n: string) => `/registry/nodes/${n}`;
const svcKey = (n: string) => `/registry/services/shop/${n}`;
const sliceKey = (n: string) => `/registry/endpointslices.discovery.k8s.io/shop/${n}`;

const nodeObj = (name: string, pool?: string) => json({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(pool ? { 'apps.edgeos.io/pool': pool } : {}) } } });
const svcObj = (name: string, topology?: string) =>
  json({ metadata: { name, namespace: 'shop', ...(topology ? { annotations: { [TOPOLOGY_ANNOTATION]: topology } } : {}) }, spec: { ports: [{ port: 80 }] } });
/** Endpoints as "ip@node". */
const sliceObj = (name: string, service: string, ...eps: string[]) =>
  json({
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: eps.map((e) => ({ addresses: [e.split('@')[0]], nodeName: e.split('@')[1], conditions: { ready: true } })),
  });

/** The feed's snapshot objects and changes, as a link session would send them. */
function recorder() {
  const seen = { snapshot: [] as { kind: LinkKind; object: KubeObjectJson }[], changes: [] as ObjectChange[] };
  const sink: FeedSink = {
    snapshot: (_revision, objects) => void (seen.snapshot = objects),
    changes: (_revision, c) => void seen.changes.push(...c),
    bookmark: () => undefined,
    failed: (err) => {
      throw err;
    },
  };
  return { sink, seen };
}

const ipsOf = (o: KubeObjectJson | undefined) => ((o?.endpoints ?? []) as { addresses: string[] }[]).flatMap((e) => e.addresses).sort();

/** Writes a marker Service and waits until the feed passed it: everything before it was handled. */
async function settle(r: ReturnType<typeof recorder>, marker: string): Promise<ObjectChange[]> {
  const from = r.seen.changes.length;
  await store.create(svcKey(marker), svcObj(marker));
  await waitFor(`marker ${marker}`, () => (r.seen.changes.some((c) => c.name === marker) ? true : undefined), 5000);
  return r.seen.changes.slice(from).filter((c) => c.name !== marker);
}

beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 200 });
  hub = new FeedHub({ store, log: silentLogger() });
});
afterAll(async () => {
  hub.close();
  await store.close();
});

describe('node feed: Service topology', () => {
  it('carries only the pool\'s endpoints and re-filters on pool, slice and annotation changes', async () => {
    await store.create(nodeKey('a1'), nodeObj('a1', 'a'));
    await store.create(nodeKey('a2'), nodeObj('a2', 'a'));
    await store.create(nodeKey('b1'), nodeObj('b1', 'b'));
    await store.create(nodeKey('c1'), nodeObj('c1'));
    await store.create(svcKey('web'), svcObj('web', 'pool'));
    await store.create(sliceKey('web-1'), sliceObj('web-1', 'web', '10.0.0.2@a2', '10.0.0.3@b1'));
    await store.create(svcKey('api'), svcObj('api'));
    await store.create(sliceKey('api-1'), sliceObj('api-1', 'api', '10.0.1.2@a2', '10.0.1.3@b1'));

    const r = recorder();
    const feed = await startNodeFeed({ store, hub, node: 'a1', fromRevision: undefined, sink: r.sink, log: silentLogger() });
    const snap = r.seen.snapshot;
    const sliceIn = (name: string) => snap.find((o) => o.kind === 'EndpointSlice' && (o.object.metadata as { name: string }).name === name)?.object;
    expect(ipsOf(sliceIn('web-1'))).toEqual(['10.0.0.2']);
    expect(ipsOf(sliceIn('api-1'))).toEqual(['10.0.1.2', '10.0.1.3']);

    // A pool-b endpoint comes: node a1's slice is the same, nothing crosses the link.
    await store.update(sliceKey('web-1'), sliceObj('web-1', 'web', '10.0.0.2@a2', '10.0.0.3@b1', '10.0.0.4@b1'));
    expect(await settle(r, 'm1')).toEqual([]);

    // b1 joins pool a: its endpoints are now close to a1.
    await store.update(nodeKey('b1'), nodeObj('b1', 'a'));
    let sent = await settle(r, 'm2');
    expect(sent.map((c) => c.name)).toEqual(['web-1']);
    expect(ipsOf(sent[0]!.object)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);

    // a1 itself moves to pool b (now empty of endpoints): without `*` it gets none.
    await store.update(nodeKey('a1'), nodeObj('a1', 'b'));
    sent = await settle(r, 'm3');
    expect(sent.map((c) => `${c.kind}/${c.name}`)).toEqual(['Node/a1', 'EndpointSlice/web-1']);
    expect(ipsOf(sent[1]!.object)).toEqual([]);

    // The annotation becomes `pool,*`: the empty pool falls back to every endpoint.
    await store.update(svcKey('web'), svcObj('web', 'pool,*'));
    sent = await settle(r, 'm4');
    expect(sent.map((c) => `${c.kind}/${c.name}`)).toEqual(['Service/web', 'EndpointSlice/web-1']);
    expect(ipsOf(sent[1]!.object)).toHaveLength(3);

    // `node`: a1 has no endpoint of its own.
    await store.update(svcKey('web'), svcObj('web', 'node'));
    sent = await settle(r, 'm5');
    expect(ipsOf(sent.find((c) => c.kind === 'EndpointSlice')!.object)).toEqual([]);
    const resumeAt = await store.currentRevision();
    feed.stop();

    // While a1 is away: the annotation goes and the api Service starts filtering by pool.
    await store.update(svcKey('web'), svcObj('web'));
    await store.update(svcKey('api'), svcObj('api', 'pool'));
    const r2 = recorder();
    const again = await startNodeFeed({ store, hub, node: 'a1', fromRevision: resumeAt, sink: r2.sink, log: silentLogger() });
    expect(again.start).toBe('resume');
    sent = await settle(r2, 'm6');
    const slices = new Map(sent.filter((c) => c.kind === 'EndpointSlice').map((c) => [c.name, ipsOf(c.object)]));
    // web whole again; api filtered to pool b (a1's pool now): b1 moved to pool a, so none.
    expect(slices).toEqual(new Map([['web-1', ['10.0.0.2', '10.0.0.3', '10.0.0.4']], ['api-1', []]]));

    // A filtered slice deleted: the deletion passes.
    await store.delete(sliceKey('api-1'));
    sent = await settle(r2, 'm7');
    expect(sent).toEqual([{ kind: 'EndpointSlice', namespace: 'shop', name: 'api-1' }]);
    again.stop();
  });
});
