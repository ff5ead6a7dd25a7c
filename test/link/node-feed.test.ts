// The node feed on a real SQLite store: resume from a revision replays only what changed after
// it; a revision that compaction removed forces a snapshot (the 410 Gone case).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObjectJson, LinkKind, ObjectChange } from '../../src/common/link/protocol.ts';
import { silentLogger } from '../../src/common/log.ts';
import { FeedHub } from '../../src/server/link/feed-hub.ts';
import { startNodeFeed } from '../../src/server/link/node-feed.ts';
import type { FeedSink } from '../../src/server/link/types.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { SqliteStore } from '../../src/store/index.ts';
import { waitFor } from './harness.ts';

let store: SqliteStore;
let hub: FeedHub;

const podKey = (name: string) => `/registry/pods/default/${name}`;
const pod = (name: string, node: string, secret?: string) =>
  Buffer.from(JSON.stringify({ metadata: { name, namespace: 'default', uid: name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }], volumes: secret ? [{ name: 'v', secret: { secretName: secret } }] : [] } }));
const secret = (name: string) => Buffer.from(JSON.stringify({ metadata: { name, namespace: 'default' }, type: 'Opaque', data: {} }));

function recorder() {
  const snapshots: { revision: number; objects: { kind: LinkKind; object: KubeObjectJson }[] }[] = [];
  const changes: ObjectChange[] = [];
  const sink: FeedSink = {
    snapshot: (revision, objects) => snapshots.push({ revision, objects }),
    changes: (_r, c) => changes.push(...c),
    bookmark: () => undefined,
    failed: (err) => {
      throw err;
    },
  };
  return { sink, snapshots, changes };
}

beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 200 });
  hub = new FeedHub({ store, log: silentLogger() });
});
afterAll(async () => {
  hub.close();
  await store.close();
});

describe('node feed', () => {
  it('resumes from a revision without a snapshot, then compaction forces one', async () => {
    await store.create('/registry/secrets/default/s1', secret('s1'));
    await store.create(podKey('a'), pod('a', 'n1', 's1'));
    await store.create(podKey('b'), pod('b', 'n2'));
    const resumeAt = await store.currentRevision();
    await store.create(podKey('c'), pod('c', 'n1'));

    const r = recorder();
    const feed = await startNodeFeed({ store, hub, node: 'n1', fromRevision: resumeAt, sink: r.sink, log: silentLogger() });
    expect(feed.start).toBe('resume');
    await waitFor('pod c', () => (r.changes.some((c) => c.name === 'c') ? true : undefined), 5000);
    expect(r.snapshots).toHaveLength(0);
    // Only what changed after resumeAt, and only n1's.
    expect(r.changes.map((c) => `${c.kind}/${c.name}`)).toEqual(['Pod/c']);
    // The secret of pod a is known from the state at resumeAt: its deletion reaches n1.
    await store.delete('/registry/secrets/default/s1');
    await waitFor('s1 deletion', () => (r.changes.some((c) => c.kind === 'Secret' && !c.object) ? true : undefined), 5000);
    feed.stop();

    await store.compact(await store.currentRevision());
    const r2 = recorder();
    const feed2 = await startNodeFeed({ store, hub, node: 'n1', fromRevision: resumeAt, sink: r2.sink, log: silentLogger() });
    expect(feed2.start).toBe('relist');
    expect(r2.snapshots).toHaveLength(1);
    expect(r2.snapshots[0]!.objects.map((o) => `${o.kind}/${(o.object.metadata as { name: string }).name}`).sort()).toEqual(['Pod/a', 'Pod/c']);
    feed2.stop();
  });

  it('after a restart (a new hub over the same store) a resume replays the hub\'s history from memory, no watch of its own, and reads its pods without listing them all', async () => {
    const own = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 200 });
    try {
      await own.create(podKey('r0'), pod('r0', 'rn'));
      await own.create(podKey('r1'), pod('r1', 'rn'));
      const resumeAt = await own.currentRevision();
      // While the server was away: a pod of the node deleted and one created, another node's pod, Lease renewals.
      await own.delete(podKey('r0'));
      await own.create(podKey('r2'), pod('r2', 'rn'));
      await own.create(podKey('r3'), pod('r3', 'other'));
      for (let i = 0; i < 20; i++) await own.create(`/registry/leases/kube-node-lease/l${i}`, Buffer.from('{}'));
      let watches = 0;
      const watch = own.watch.bind(own);
      own.watch = (...args) => (watches++, watch(...args));
      let podLists = 0;
      const list = own.list.bind(own);
      own.list = (prefix, opts) => (prefix === '/registry/pods/' && podLists++, list(prefix, opts));
      const fresh = new FeedHub({ store: own, log: silentLogger() });
      const r = recorder();
      const feed = await startNodeFeed({ store: own, hub: fresh, node: 'rn', fromRevision: resumeAt, sink: r.sink, log: silentLogger() });
      expect(feed.start).toBe('resume');
      await waitFor('pod r2', () => (r.changes.some((c) => c.name === 'r2') ? true : undefined), 5000);
      expect(r.changes.map((c) => `${c.kind}/${c.name}${c.object ? '' : ' deleted'}`)).toEqual(['Pod/r0 deleted', 'Pod/r2']);
      // One store watch: the hub's (a resume the hub could not serve opens a second, over all of /registry/).
      expect(watches).toBe(1);
      // One list of the pods: the hub's, when it started; the feed read r0 and r1 as of resumeAt.
      expect(podLists).toBe(1);
      feed.stop();
      fresh.close();
    } finally {
      await own.close();
    }
  });

  it('one hub feeds every node: each gets its own pods, the Secrets they use, and nothing else', async () => {
    const r1 = recorder();
    const r2 = recorder();
    const f1 = await startNodeFeed({ store, hub, node: 'h1', fromRevision: undefined, sink: r1.sink, log: silentLogger() });
    const f2 = await startNodeFeed({ store, hub, node: 'h2', fromRevision: undefined, sink: r2.sink, log: silentLogger() });
    expect([f1.start, f2.start]).toEqual(['relist', 'relist']);
    expect(hub.size).toBe(2);
    await store.create('/registry/secrets/default/s2', secret('s2'));
    await store.create(podKey('p1'), pod('p1', 'h1', 's2'));
    await store.create(podKey('p2'), pod('p2', 'h2'));
    await store.create(podKey('unbound'), Buffer.from(JSON.stringify({ metadata: { name: 'unbound', namespace: 'default' }, spec: { containers: [] } })));
    // The Secret changes right after the pod that starts using it: h1 gets both, in order.
    await store.update('/registry/secrets/default/s2', Buffer.from(JSON.stringify({ metadata: { name: 's2', namespace: 'default' }, type: 'Opaque', data: { k: 'dg==' } })));
    await waitFor('h1 gets the updated s2', () => (r1.changes.some((c) => c.kind === 'Secret' && (c.object?.data as { k?: string } | undefined)?.k) ? true : undefined), 5000);
    await waitFor('h2 gets p2', () => (r2.changes.some((c) => c.name === 'p2') ? true : undefined), 5000);
    expect(r1.changes.map((c) => `${c.kind}/${c.name}`)).toEqual(['Pod/p1', 'Secret/s2', 'Secret/s2']);
    expect(r2.changes.map((c) => `${c.kind}/${c.name}`)).toEqual(['Pod/p2']);
    f1.stop();
    f2.stop();
    expect(hub.size).toBe(0);
  });

  it('sends of other nodes only pod network peers, from the hub; a resume gets what changed while away', async () => {
    const nodeKey = (n: string) => `/registry/nodes/${n}`;
    const node = (name: string, o: { cidr?: string; vtep?: string; status?: string } = {}) => Buffer.from(JSON.stringify({
      metadata: { name, uid: name, labels: { big: 'x' }, annotations: { other: 'y', ...(o.vtep ? { 'network.edgeos.io/vtep-ip': o.vtep, 'network.edgeos.io/vtep-mac': '02:00:00:00:00:01' } : {}) } },
      spec: o.cidr ? { podCIDR: o.cidr } : {},
      status: { phase: o.status ?? 'a' },
    }));
    await store.create(nodeKey('q-self'), node('q-self', { cidr: '10.44.0.0/24', vtep: '192.0.2.1' }));
    await store.create(nodeKey('q-peer'), node('q-peer', { cidr: '10.44.1.0/24', vtep: '192.0.2.2' }));
    await store.create(nodeKey('q-hollow'), node('q-hollow', { cidr: '10.44.2.0/24' })); // no overlay endpoint
    await store.create(nodeKey('q-new'), node('q-new')); // no pod CIDR yet
    await store.create(nodeKey('q-going'), node('q-going', { cidr: '10.44.3.0/24', vtep: '192.0.2.3' }));
    const nodes = (objects: { kind: LinkKind; object: KubeObjectJson }[]) => objects.filter((o) => o.kind === 'Node' && (o.object.metadata as { name: string }).name.startsWith('q-'));
    const r = recorder();
    const f = await startNodeFeed({ store, hub, node: 'q-self', fromRevision: undefined, sink: r.sink, log: silentLogger() });
    const sent = nodes(r.snapshots[0]!.objects);
    expect(sent.map((o) => (o.object.metadata as { name: string }).name).sort()).toEqual(['q-going', 'q-peer', 'q-self']);
    const peer = sent.find((o) => (o.object.metadata as { name: string }).name === 'q-peer')!.object;
    expect(peer).toEqual({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'q-peer', uid: 'q-peer', annotations: { 'network.edgeos.io/vtep-ip': '192.0.2.2', 'network.edgeos.io/vtep-mac': '02:00:00:00:00:01' } }, spec: { podCIDR: '10.44.1.0/24' } });
    // A status change of a peer is nothing; a hollow node's pod CIDR change neither.
    await store.update(nodeKey('q-peer'), node('q-peer', { cidr: '10.44.1.0/24', vtep: '192.0.2.2', status: 'b' }));
    await store.update(nodeKey('q-hollow'), node('q-hollow', { cidr: '10.44.9.0/24' }));
    const resumeAt = await store.currentRevision();
    await waitFor('the hub at resumeAt', () => (hub.revision >= resumeAt ? true : undefined), 5000);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.changes.filter((c) => c.kind === 'Node')).toEqual([]);
    f.stop();
    // While q-self is away: q-new becomes a peer, q-peer moves, q-going stops being one, q-hollow changes again.
    await store.update(nodeKey('q-new'), node('q-new', { cidr: '10.44.4.0/24', vtep: '192.0.2.4' }));
    await store.update(nodeKey('q-peer'), node('q-peer', { cidr: '10.44.1.0/24', vtep: '192.0.2.22' }));
    await store.update(nodeKey('q-going'), node('q-going', { cidr: '10.44.3.0/24' }));
    await store.update(nodeKey('q-hollow'), node('q-hollow', { cidr: '10.44.2.0/24', status: 'c' }));
    await store.create(podKey('q-pod'), pod('q-pod', 'q-self'));
    await store.create(podKey('q-other'), pod('q-other', 'q-peer'));
    await waitFor('the hub past the changes', async () => (hub.revision >= (await store.currentRevision()) ? true : undefined), 5000);
    // Replayed from what the hub kept in memory: the store's history is not read.
    expect(hub.recentAfter('q-self', resumeAt)?.map((e) => e.ev.kv.key)).toContain(podKey('q-pod'));
    expect(hub.recentAfter('q-self', resumeAt)?.map((e) => e.ev.kv.key)).not.toContain(podKey('q-other'));
    const r2 = recorder();
    const f2 = await startNodeFeed({ store, hub, node: 'q-self', fromRevision: resumeAt, sink: r2.sink, log: silentLogger() });
    expect(f2.start).toBe('resume');
    await waitFor('q-going removed', () => (r2.changes.some((c) => c.name === 'q-going') ? true : undefined), 5000);
    const seen = () => r2.changes.filter((c) => c.kind === 'Node').map((c) => `${c.name}${c.object ? ` ${(c.object.metadata as { annotations: Record<string, string> }).annotations['network.edgeos.io/vtep-ip']}` : ' gone'}`);
    expect(seen()).toEqual(['q-new 192.0.2.4', 'q-peer 192.0.2.22', 'q-going gone']);
    await waitFor('q-pod', () => (r2.changes.some((c) => c.name === 'q-pod') ? true : undefined), 5000);
    expect(r2.changes.filter((c) => c.kind === 'Pod').map((c) => c.name)).toEqual(['q-pod']);
    // Live again: the hub's peer changes reach it, a status change does not.
    await store.update(nodeKey('q-peer'), node('q-peer', { cidr: '10.44.1.0/24', vtep: '192.0.2.22', status: 'd' }));
    await store.update(nodeKey('q-peer'), node('q-peer', { cidr: '10.44.1.0/24', vtep: '192.0.2.2' }));
    await waitFor('q-peer back', () => (seen().length === 4 ? true : undefined), 5000);
    expect(seen()[3]).toBe('q-peer 192.0.2.2');
    await store.delete(nodeKey('q-peer'));
    await waitFor('q-peer deleted', () => (seen().length === 5 ? true : undefined), 5000);
    expect(seen()[4]).toBe('q-peer gone');
    f2.stop();
    for (const n of ['q-self', 'q-hollow', 'q-new', 'q-going']) await store.delete(nodeKey(n));
    for (const p of ['q-pod', 'q-other']) await store.delete(podKey(p));
  });

  it("brings a node its pods' claims, the volumes bound to them, and the local volumes it holds", async () => {
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    const claimKey = (name: string) => `/registry/persistentvolumeclaims/vol/${name}`;
    const volumeKey = (name: string) => `/registry/persistentvolumes/${name}`;
    const claim = (name: string, volumeName?: string) => json({ metadata: { name, namespace: 'vol' }, spec: volumeName ? { volumeName } : {} });
    const volume = (name: string, holder?: string) => json({
      metadata: { name, ...(holder ? { annotations: { 'pv.kubernetes.io/provisioned-by': 'edgeos.io/local-path', 'edgeos.io/local-path-node': holder } } : {}) },
      spec: { local: { path: `/s/${name}_vol_x` } },
    });
    const withClaim = (name: string, node: string, claimName: string) =>
      json({ metadata: { name, namespace: 'vol', uid: name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }] } });
    await store.create(claimKey('data'), claim('data', 'pv-data'));
    await store.create(volumeKey('pv-data'), volume('pv-data'));
    await store.create(volumeKey('pv-mine'), volume('pv-mine', 'n9'));
    await store.create(volumeKey('pv-other'), volume('pv-other', 'n8'));
    await store.create('/registry/pods/vol/p1', withClaim('p1', 'n9', 'data'));
    const names = (objects: { kind: LinkKind; object: KubeObjectJson }[]) => objects.map((o) => `${o.kind}/${(o.object.metadata as { name: string }).name}`).sort();

    const r = recorder();
    const feed = await startNodeFeed({ store, hub, node: 'n9', fromRevision: undefined, sink: r.sink, log: silentLogger() });
    try {
      expect(names(r.snapshots[0]!.objects)).toEqual(['PersistentVolume/pv-data', 'PersistentVolume/pv-mine', 'PersistentVolumeClaim/data', 'Pod/p1']);
      const seen = () => r.changes.filter((c) => c.kind !== 'ServiceAccount').map((c) => `${c.kind}/${c.name}${c.object ? '' : ' gone'}`);
      // The claim is bound to another volume: the old one leaves, the new one arrives.
      await store.create(volumeKey('pv-new'), volume('pv-new'));
      await store.update(claimKey('data'), claim('data', 'pv-new'));
      await waitFor('the rebinding', () => (seen().includes('PersistentVolume/pv-new') ? true : undefined), 5000);
      expect(seen()).toEqual(['PersistentVolumeClaim/data', 'PersistentVolume/pv-new', 'PersistentVolume/pv-data gone']);
      // The pod goes: its claim and that volume leave; the node's own local volume stays.
      await store.delete('/registry/pods/vol/p1');
      await waitFor('the pod to go', () => (seen().includes('PersistentVolumeClaim/data gone') ? true : undefined), 5000);
      expect(seen().slice(3).sort()).toEqual(['PersistentVolume/pv-new gone', 'PersistentVolumeClaim/data gone', 'Pod/p1 gone']);
      // A local volume of the node being deleted reaches it (its agent deletes the data).
      await store.update(volumeKey('pv-mine'), json({ ...JSON.parse(volume('pv-mine', 'n9').toString()), metadata: { name: 'pv-mine', deletionTimestamp: '2026-01-01T00:00:00Z', annotations: { 'pv.kubernetes.io/provisioned-by': 'edgeos.io/local-path', 'edgeos.io/local-path-node': 'n9' } } }));
      await store.update(volumeKey('pv-other'), volume('pv-other', 'n8'));
      await waitFor('pv-mine', () => (seen().filter((x) => x === 'PersistentVolume/pv-mine').length === 1 ? true : undefined), 5000);
      await new Promise((res) => setTimeout(res, 300));
      expect(seen().filter((x) => x.includes('pv-other'))).toEqual([]);
    } finally {
      feed.stop();
    }
  });

  it('sends every node all Services and EndpointSlices, trimmed, and an endpoint change as one object', async () => {
    const svc = { metadata: { name: 'web', namespace: 'shop', managedFields: [{ manager: 'kubectl', fieldsV1: { big: true } }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}', keep: 'yes' } }, spec: { clusterIP: '10.43.0.50', ports: [{ port: 80 }] } };
    const slice = (ip: string) => Buffer.from(JSON.stringify({ metadata: { name: 'web-abc', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: [ip], conditions: { ready: true } }], ports: [{ port: 8080 }] }));
    await store.create('/registry/services/shop/web', Buffer.from(JSON.stringify(svc)));
    await store.create('/registry/endpointslices.discovery.k8s.io/shop/web-abc', slice('10.42.0.5'));
    const r = recorder();
    const feed = await startNodeFeed({ store, hub, node: 'n9', fromRevision: undefined, sink: r.sink, log: silentLogger() });
    expect(feed.start).toBe('relist');
    const sent = r.snapshots[0]!.objects.filter((o) => o.kind === 'Service' || o.kind === 'EndpointSlice');
    expect(sent.map((o) => `${o.kind}/${(o.object.metadata as { name: string }).name}`).sort()).toEqual(['EndpointSlice/web-abc', 'Service/web']);
    const meta = sent.find((o) => o.kind === 'Service')!.object.metadata as Record<string, unknown>;
    expect(meta.managedFields).toBeUndefined();
    expect(meta.annotations).toEqual({ keep: 'yes' });

    const kv = await store.get('/registry/endpointslices.discovery.k8s.io/shop/web-abc');
    await store.update('/registry/endpointslices.discovery.k8s.io/shop/web-abc', slice('10.42.0.6'), { expectedModRevision: kv!.modRevision });
    await waitFor('the slice change', () => (r.changes.length > 0 ? true : undefined), 5000);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({ kind: 'EndpointSlice', namespace: 'shop', name: 'web-abc', object: { endpoints: [{ addresses: ['10.42.0.6'] }] } });
    await store.delete('/registry/services/shop/web');
    await waitFor('the service deletion', () => (r.changes.some((c) => c.kind === 'Service' && !c.object) ? true : undefined), 5000);
    feed.stop();
  });
  it('a start takes the Services, EndpointSlices and local volumes from the hub, listing none; a resume reads at its revision only what changed after it', async () => {
    const own = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 200 });
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    const svc = (name: string, port: number) => json({ metadata: { name, namespace: 'shop' }, spec: { clusterIP: '10.43.0.9', ports: [{ port }] } });
    const volume = (name: string, holder: string) => json({ metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': 'edgeos.io/local-path', 'edgeos.io/local-path-node': holder } }, spec: { local: { path: `/s/${name}` } } });
    const wide = ['/registry/services/', '/registry/endpointslices.discovery.k8s.io/', '/registry/persistentvolumes/'];
    const fresh = new FeedHub({ store: own, log: silentLogger() });
    try {
      await own.create('/registry/services/shop/a', svc('a', 80));
      await own.create('/registry/services/shop/b', svc('b', 81));
      await own.create('/registry/endpointslices.discovery.k8s.io/shop/a-1', json({ metadata: { name: 'a-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'a' } }, addressType: 'IPv4', endpoints: [] }));
      await own.create('/registry/persistentvolumes/pv-sn', volume('pv-sn', 'sn'));
      await own.create('/registry/persistentvolumes/pv-else', volume('pv-else', 'elsewhere'));
      let lists = 0;
      const list = own.list.bind(own);
      own.list = (prefix, opts) => (wide.includes(prefix) && lists++, list(prefix, opts));
      const names = (objects: { kind: LinkKind; object: KubeObjectJson }[]) => objects.filter((o) => o.kind !== 'Node').map((o) => `${o.kind}/${(o.object.metadata as { name: string }).name}`).sort();

      const r1 = recorder();
      const f1 = await startNodeFeed({ store: own, hub: fresh, node: 'sn', fromRevision: undefined, sink: r1.sink, log: silentLogger() });
      expect(names(r1.snapshots[0]!.objects)).toEqual(['EndpointSlice/a-1', 'PersistentVolume/pv-sn', 'Service/a', 'Service/b']);
      // The hub listed each once when it started; the start itself listed nothing.
      expect(lists).toBe(3);
      const resumeAt = r1.snapshots[0]!.revision;
      f1.stop();
      const r2 = recorder();
      const f2 = await startNodeFeed({ store: own, hub: fresh, node: 'other', fromRevision: undefined, sink: r2.sink, log: silentLogger() });
      expect(names(r2.snapshots[0]!.objects)).toEqual(['EndpointSlice/a-1', 'Service/a', 'Service/b']);
      expect(lists).toBe(3);
      f2.stop();

      // While `sn` was away: a Service changed, one deleted, a local volume of its own created.
      await own.update('/registry/services/shop/b', svc('b', 82));
      await own.delete('/registry/services/shop/a');
      await own.create('/registry/persistentvolumes/pv-late', volume('pv-late', 'sn'));
      await own.create('/registry/services/shop/c', svc('c', 83));
      await fresh.reached(await own.currentRevision(), 5000);
      const reads: string[] = [];
      const get = own.get.bind(own);
      own.get = (key, opts) => (wide.some((w) => key.startsWith(w)) && reads.push(key), get(key, opts));
      const r3 = recorder();
      const f3 = await startNodeFeed({ store: own, hub: fresh, node: 'sn', fromRevision: resumeAt, sink: r3.sink, log: silentLogger() });
      expect(f3.start).toBe('resume');
      await waitFor('the changes while away', () => (r3.changes.some((c) => c.name === 'c') ? true : undefined), 5000);
      expect(r3.changes.map((c) => `${c.kind}/${c.name}${c.object ? '' : ' gone'}`)).toEqual(['Service/b', 'Service/a gone', 'PersistentVolume/pv-late', 'Service/c']);
      expect(r3.changes.find((c) => c.name === 'b')!.object).toMatchObject({ spec: { ports: [{ port: 82 }] } });
      // As of resumeAt only the four keys written since were read (one by one), nothing listed; and
      // the node's own local volume, whose object a start reads (as before).
      expect(lists).toBe(3);
      expect(reads.sort()).toEqual(['/registry/persistentvolumes/pv-late', '/registry/persistentvolumes/pv-sn', '/registry/services/shop/a', '/registry/services/shop/b', '/registry/services/shop/c']);
      f3.stop();
    } finally {
      fresh.close();
      await own.close();
    }
  });
});
