// What one link start costs the server, in-process and counted: store lists and point reads, the
// bytes they return, and CPU per start — for new links (a snapshot) and for links that resume from a
// revision a few writes back (as after a server restart). A SQLite store in memory with a cluster
// of --services Services (each with an EndpointSlice), --volumes PersistentVolumes (a fifth of them
// local volumes of some node) and --pods pods over --nodes nodes; one FeedHub, as the server has.
//
//   node bench/fleet/start-cost.ts [--nodes 1000] [--pods 2000] [--services 500] [--volumes 1000] [--starts 300]
import { parseArgs } from 'node:util';
import { silentLogger } from '../../src/common/log.ts';
import { FeedHub } from '../../src/server/link/feed-hub.ts';
import { startNodeFeed } from '../../src/server/link/node-feed.ts';
import type { FeedSink } from '../../src/server/link/types.ts';
import { openSqliteStore } from '../../src/store/index.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '2000' },
    services: { type: 'string', default: '500' },
    volumes: { type: 'string', default: '1000' },
    starts: { type: 'string', default: '300' },
  },
});
const [NODES, PODS, SERVICES, VOLUMES, STARTS] = [values.nodes, values.pods, values.services, values.volumes, values.starts].map(Number) as [number, number, number, number, number];
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const managed = [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': {}, 'f:selector': {}, 'f:type': {} } } }];

const store = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 200 });
for (let i = 0; i < SERVICES; i++) {
  await store.create(`/registry/services/default/svc-${i}`, json({ metadata: { name: `svc-${i}`, namespace: 'default', uid: `s${i}`, managedFields: managed }, spec: { clusterIP: `10.43.${i >> 8}.${i & 255}`, ports: [{ port: 80, targetPort: 8080 }], selector: { app: `a${i}` } } }));
  await store.create(`/registry/endpointslices.discovery.k8s.io/default/svc-${i}-x`, json({ metadata: { name: `svc-${i}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${i}` }, managedFields: managed }, addressType: 'IPv4', endpoints: [{ addresses: [`10.42.${i >> 8}.${i & 255}`], conditions: { ready: true }, nodeName: `node-${i % NODES}` }], ports: [{ port: 8080 }] }));
}
for (let i = 0; i < VOLUMES; i++) {
  const local = i % 5 === 0 ? { annotations: { 'pv.kubernetes.io/provisioned-by': 'edgeos.io/local-path', 'edgeos.io/local-path-node': `node-${i % NODES}` } } : {};
  await store.create(`/registry/persistentvolumes/pv-${i}`, json({ metadata: { name: `pv-${i}`, ...local }, spec: { capacity: { storage: '1Gi' }, local: { path: `/data/pv-${i}` } } }));
}
for (let i = 0; i < PODS; i++) {
  await store.create(`/registry/pods/default/p-${i}`, json({ metadata: { name: `p-${i}`, namespace: 'default', uid: `p${i}` }, spec: { nodeName: `node-${i % NODES}`, containers: [{ name: 'c', image: 'x' }] } }));
}

const hub = new FeedHub({ store, log: silentLogger() });
const sink: FeedSink = { snapshot: () => undefined, changes: () => undefined, bookmark: () => undefined, failed: (err) => console.error(err) };
// The hub's own start (its lists) is not a link start: one feed first.
(await startNodeFeed({ store, hub, node: 'warm-up', fromRevision: undefined, sink, log: silentLogger() })).stop();

let lists = 0;
let gets = 0;
let bytes = 0;
const list = store.list.bind(store);
const get = store.get.bind(store);
store.list = async (prefix, opts) => {
  const r = await list(prefix, opts);
  lists++;
  for (const kv of r.kvs) bytes += kv.value.length;
  return r;
};
store.get = async (key, opts) => {
  const kv = await get(key, opts);
  gets++;
  if (kv) bytes += kv.value.length;
  return kv;
};

async function starts(fromRevision: () => number | undefined, label: string): Promise<void> {
  lists = gets = bytes = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < STARTS; i++) {
    const feed = await startNodeFeed({ store, hub, node: `node-${i % NODES}`, fromRevision: fromRevision(), sink, log: silentLogger() });
    feed.stop();
  }
  const c = process.cpuUsage(cpu);
  const per = (n: number) => Math.round((n / STARTS) * 10) / 10;
  console.log(JSON.stringify({ start: label, starts: STARTS, listsPerStart: per(lists), readsPerStart: per(gets), kbReadPerStart: per(bytes / 1024), cpuMsPerStart: per((c.user + c.system) / 1000), wallMsPerStart: per(performance.now() - t0) }));
}

await starts(() => undefined, 'snapshot');
// A resume from a revision 20 writes back (Service and volume writes among them).
const resumeAt = await store.currentRevision();
for (let i = 0; i < 10; i++) await store.update(`/registry/services/default/svc-${i}`, json({ metadata: { name: `svc-${i}`, namespace: 'default', uid: `s${i}` }, spec: { clusterIP: `10.43.0.${i}`, ports: [{ port: 81 }] } }));
for (let i = 0; i < 10; i++) await store.create(`/registry/leases/kube-node-lease/l-${i}`, json({ metadata: { name: `l-${i}` } }));
await hub.reached(await store.currentRevision(), 5000);
await starts(() => resumeAt, 'resume');
hub.close();
await store.close();
