/**
 * The node-scoped watch behind a link: only the pods bound to the node, the ConfigMaps, Secrets,
 * ServiceAccounts and PersistentVolumeClaims those pods reference, the PersistentVolumes bound to
 * those claims (the Node authorizer's pod → claim → volume graph) and the local volumes whose data
 * the node holds (its agent deletes the data), the node's own Node object, and the cluster's
 * Services and EndpointSlices (every node routes every Service, as kube-proxy reads them all;
 * trimmed of managedFields; a Service with a topology gets only the node's close endpoints, see
 * endpoint-topology.ts), never the rest of the cluster. The server does the filtering, reading
 * the store directly (like the Node authorizer):
 * one watch on the whole registry keeps every change in revision order, so a pod that starts
 * referencing a Secret and the Secret itself arrive in the order they were written.
 *
 * Resume: the agent's last revision R is resumed when history above R still exists (the node's
 * state at R is rebuilt from a list at revision R, then events after R replayed). Otherwise
 * (first connect, or R compacted away, the 410 Gone case) the feed sends a snapshot.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { KubeObjectJson, LinkKind, ObjectChange } from '../../common/link/protocol.ts';
import { localPathNode } from '../../common/local-volumes.ts';
import { POOL_LABEL } from '../../common/pools.ts';
import { CompactedError } from '../../store/errors.ts';
import type { KeyValue, Watch, WatchEvent } from '../../store/types.ts';
import { decodeStored } from '../storage/objects.ts';
import type { NodeFeed, NodeFeedOptions } from './types.ts';
import { EndpointTopology } from './endpoint-topology.ts';
import { podReferences } from '../auth/pod-references.ts';
import { ResourceRegistry, objectKey } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';

const REFERENCED: { kind: LinkKind; plural: string; refs: 'secrets' | 'configmaps' | 'serviceaccounts' | 'persistentvolumeclaims' }[] = [
  { kind: 'Secret', plural: 'secrets', refs: 'secrets' },
  { kind: 'ConfigMap', plural: 'configmaps', refs: 'configmaps' },
  { kind: 'ServiceAccount', plural: 'serviceaccounts', refs: 'serviceaccounts' },
  { kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', refs: 'persistentvolumeclaims' },
];

/**
 * Quiet periods produce at most one bookmark this often (other nodes’ leases change every 10 s;
 * each bookmark is ~70 bytes on the link and a write on the device). The resume point then lags
 * at most a minute, well inside the store's 5 minutes of history, so an agent that was away up to
 * ~4 minutes still resumes without a snapshot.
 */
const BOOKMARK_EVERY_MS = 60_000;

/** Sent to every node whole: what the Service datapath and the cluster DNS answer from. */
const CLUSTER_WIDE: { kind: LinkKind; group: string; plural: string }[] = [
  { kind: 'Service', group: '', plural: 'services' },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', plural: 'endpointslices' },
];

interface Resources {
  readonly pods: ResourceInfo;
  readonly nodes: ResourceInfo;
  readonly volumes: ResourceInfo;
  readonly byKind: Map<LinkKind, ResourceInfo>;
}

/**
 * Services and EndpointSlices cross the link without what only the API's writers use: their
 * managedFields and kubectl's last-applied copy are most of their bytes, and every endpoint
 * change is one of these objects on every link.
 */
export function trimForNode(object: KubeObjectJson): KubeObjectJson {
  const meta = object.metadata as Record<string, unknown> | undefined;
  if (!meta) return object;
  const { managedFields: _m, ...rest } = meta;
  const annotations = rest.annotations as Record<string, string> | undefined;
  if (annotations && 'kubectl.kubernetes.io/last-applied-configuration' in annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _l, ...others } = annotations;
    rest.annotations = others;
  }
  return { ...object, metadata: rest };
}

function resources(): Resources {
  const registry = new ResourceRegistry();
  const must = (plural: string, group = '') => {
    const r = registry.resolve(group, 'v1', plural);
    if (!r) throw new Error(`built-in resource ${plural} is missing from the registry`);
    return r;
  };
  const byKind = new Map<LinkKind, ResourceInfo>([
    ['Pod', must('pods')],
    ['Node', must('nodes')],
    ['PersistentVolume', must('persistentvolumes')],
    ...REFERENCED.map((x) => [x.kind, must(x.plural)] as [LinkKind, ResourceInfo]),
    ...CLUSTER_WIDE.map((x) => [x.kind, must(x.plural, x.group)] as [LinkKind, ResourceInfo]),
  ]);
  return { pods: must('pods'), nodes: must('nodes'), volumes: must('persistentvolumes'), byKind };
}

/** "Kind/namespace/name". */
type RefKey = string;

/** What a pod makes the node receive. */
function refsOf(pod: Pod, namespace: string): Set<RefKey> {
  const r = podReferences(pod);
  const out = new Set<RefKey>();
  for (const x of REFERENCED) for (const name of r[x.refs]) out.add(`${x.kind}/${namespace}/${name}`);
  return out;
}

export function startNodeFeed(opts: NodeFeedOptions): Promise<NodeFeed> {
  const { store, node, sink, log } = opts;
  const now = opts.now ?? Date.now;
  const res = resources();
  const podsPrefix = `/registry/${res.pods.storage}/`;
  const nodeKey = objectKey(res.nodes, '', node);
  const refPrefixes = REFERENCED.map((x) => ({ kind: x.kind, prefix: `/registry/${res.byKind.get(x.kind)!.storage}/` }));
  const widePrefixes = CLUSTER_WIDE.map((x) => ({ kind: x.kind, prefix: `/registry/${res.byKind.get(x.kind)!.storage}/` }));
  const nodesPrefix = `/registry/${res.nodes.storage}/`;
  const slicesPrefix = widePrefixes.find((w) => w.kind === 'EndpointSlice')!.prefix;

  // Service topology (endpoint-topology.ts): every node's pool, and what this node was sent of the
  // Services that filter their endpoints by node or pool.
  const nodePools = new Map<string, string>();
  const topology = new EndpointTopology({ node, get pool() { return nodePools.get(node); }, poolOf: (n) => nodePools.get(n) });
  const poolLabelBytes = Buffer.from(JSON.stringify(POOL_LABEL));

  // The node's state as of the last processed revision.
  const pods = new Map<string, Pod>();
  const podRefs = new Map<string, Set<RefKey>>();
  const refCount = new Map<RefKey, number>();
  // PersistentVolumes: the one each referenced claim is bound to (a reference of the claim, counted
  // in refCount), and the local volumes whose data this node holds, sent whether used or not.
  const volumesPrefix = `/registry/${res.volumes.storage}/`;
  const volumeOfClaim = new Map<RefKey, string>();
  const localVolumes = new Set<string>();
  let watch: Watch | undefined;
  let stopped = false;
  let lastSent = 0;
  let lastSentAt = now();

  const decode = (kind: LinkKind, kv: KeyValue): KubeObjectJson => decodeStored(res.byKind.get(kind)!, kv) as KubeObjectJson;
  const isOurs = (pod: Pod | undefined) => pod?.spec?.nodeName === node;

  function addPod(key: string, pod: Pod): Set<RefKey> {
    const ns = pod.metadata?.namespace ?? '';
    const next = refsOf(pod, ns);
    const prev = podRefs.get(key) ?? new Set<RefKey>();
    pods.set(key, pod);
    podRefs.set(key, next);
    const added = new Set<RefKey>();
    for (const r of next) if (!prev.has(r) && (refCount.get(r) ?? 0) === 0) added.add(r);
    for (const r of next) if (!prev.has(r)) refCount.set(r, (refCount.get(r) ?? 0) + 1);
    for (const r of prev) if (!next.has(r)) decRef(r);
    return added;
  }

  const dropped: RefKey[] = [];
  function decRef(r: RefKey): void {
    const n = (refCount.get(r) ?? 0) - 1;
    if (n <= 0) {
      refCount.delete(r);
      const volume = volumeOfClaim.get(r);
      volumeOfClaim.delete(r);
      if (volume) decRef(volumeRef(volume));
      // A local volume of this node stays when no claim of its pods uses it any more.
      if (!r.startsWith('PersistentVolume//') || !localVolumes.has(r.slice('PersistentVolume//'.length))) dropped.push(r);
    } else refCount.set(r, n);
  }

  const volumeRef = (name: string): RefKey => `PersistentVolume//${name}`;
  const sendsVolume = (name: string) => localVolumes.has(name) || refCount.has(volumeRef(name));

  /**
   * A referenced claim was read or changed: follow its binding. Returns the volume that became
   * referenced (to be read and sent), if any.
   */
  function followClaim(r: RefKey, claim: KubeObjectJson | undefined): string | undefined {
    const next = (claim?.spec as { volumeName?: string } | undefined)?.volumeName || undefined;
    const prev = volumeOfClaim.get(r);
    if (prev === next) return undefined;
    if (next) volumeOfClaim.set(r, next);
    else volumeOfClaim.delete(r);
    let added: string | undefined;
    if (next) {
      const had = sendsVolume(next);
      refCount.set(volumeRef(next), (refCount.get(volumeRef(next)) ?? 0) + 1);
      if (!had) added = next;
    }
    if (prev) decRef(volumeRef(prev));
    return added;
  }

  function removePod(key: string): void {
    for (const r of podRefs.get(key) ?? []) decRef(r);
    pods.delete(key);
    podRefs.delete(key);
  }

  async function readRef(r: RefKey, revision: number): Promise<KubeObjectJson | undefined> {
    const [kind, ns, name] = r.split('/') as [LinkKind, string, string];
    const kv = await store.get(objectKey(res.byKind.get(kind)!, ns, name), { revision });
    return kv ? decode(kind, kv) : undefined;
  }

  /** Reads a newly referenced object, and the volume a newly referenced claim is bound to. */
  async function sendRef(r: RefKey, revision: number, out: ObjectChange[]): Promise<void> {
    const [kind, rns, rname] = r.split('/') as [LinkKind, string, string];
    const obj = await readRef(r, revision);
    if (obj) out.push(change(kind, rns, rname, obj));
    if (kind !== 'PersistentVolumeClaim') return;
    const volume = followClaim(r, obj);
    if (volume) await sendRef(volumeRef(volume), revision, out);
  }

  /** Rebuilds the node's state from a list at `revision`; returns the objects (for a snapshot). */
  async function load(revision: number): Promise<{ kind: LinkKind; object: KubeObjectJson }[]> {
    pods.clear();
    podRefs.clear();
    refCount.clear();
    volumeOfClaim.clear();
    localVolumes.clear();
    const out: { kind: LinkKind; object: KubeObjectJson }[] = [];
    const { kvs } = await store.list(podsPrefix, { revision });
    for (const kv of kvs) {
      const pod = decode('Pod', kv) as Pod;
      if (!isOurs(pod)) continue;
      addPod(kv.key, pod);
      out.push({ kind: 'Pod', object: pod as KubeObjectJson });
    }
    dropped.length = 0;
    for (const kv of (await store.list(volumesPrefix, { revision })).kvs) {
      const pv = decode('PersistentVolume', kv);
      if (localPathNode(pv) === node) localVolumes.add(kv.key.slice(volumesPrefix.length));
    }
    const changes: ObjectChange[] = [];
    for (const r of [...refCount.keys()]) await sendRef(r, revision, changes);
    for (const name of localVolumes) if (!refCount.has(volumeRef(name))) await sendRef(volumeRef(name), revision, changes);
    dropped.length = 0;
    for (const c of changes) if (c.object) out.push({ kind: c.kind, object: c.object });
    const nodeKv = await store.get(nodeKey, { revision });
    if (nodeKv) out.push({ kind: 'Node', object: decode('Node', nodeKv) });
    nodePools.clear();
    for (const kv of (await store.list(nodesPrefix, { revision })).kvs) if (kv.value.includes(poolLabelBytes)) notePool(kv.key.slice(nodesPrefix.length), decode('Node', kv) as Node);
    const wide = new Map<LinkKind, KubeObjectJson[]>();
    for (const w of widePrefixes) wide.set(w.kind, (await store.list(w.prefix, { revision })).kvs.map((kv) => trimForNode(decode(w.kind, kv))));
    for (const object of wide.get('Service')!) out.push({ kind: 'Service', object });
    for (const object of topology.load(wide.get('Service')!, wide.get('EndpointSlice')!)) out.push({ kind: 'EndpointSlice', object });
    return out;
  }

  const change = (kind: LinkKind, namespace: string, name: string, object?: KubeObjectJson): ObjectChange =>
    object ? { kind, namespace, name, object } : { kind, namespace, name };

  /** Records a node's pool; true when it changed. */
  function notePool(name: string, n: Node | undefined): boolean {
    const pool = n?.metadata?.labels?.[POOL_LABEL] || undefined;
    if (nodePools.get(name) === pool) return false;
    if (pool) nodePools.set(name, pool);
    else nodePools.delete(name);
    return true;
  }

  /** A Service's slices as of `revision` (it starts filtering: the node had them whole). */
  async function slicesOf(namespace: string, revision: number): Promise<KubeObjectJson[]> {
    const { kvs } = await store.list(`${slicesPrefix}${namespace}/`, { revision });
    return kvs.map((kv) => trimForNode(decode('EndpointSlice', kv)));
  }

  async function onEvent(ev: WatchEvent, out: ObjectChange[]): Promise<void> {
    const key = ev.kv.key;
    const rev = ev.kv.modRevision;
    if (key.startsWith(podsPrefix)) {
      const pod = ev.type === 'DELETED' ? undefined : (decode('Pod', ev.kv) as Pod);
      const was = pods.has(key);
      const [ns, name] = key.slice(podsPrefix.length).split('/') as [string, string];
      if (pod && isOurs(pod)) {
        const added = addPod(key, pod);
        out.push(change('Pod', ns, name, pod as KubeObjectJson));
        for (const r of added) await sendRef(r, rev, out);
      } else if (was) {
        removePod(key);
        out.push(change('Pod', ns, name));
      }
      for (const r of dropped.splice(0)) {
        const [kind, rns, rname] = r.split('/') as [LinkKind, string, string];
        out.push(change(kind, rns, rname));
      }
      return;
    }
    if (key.startsWith(nodesPrefix)) {
      const name = key.slice(nodesPrefix.length);
      if (name !== node && !nodePools.has(name) && !ev.kv.value.includes(poolLabelBytes)) return;
      const object = ev.type === 'DELETED' ? undefined : decode('Node', ev.kv);
      if (name === node) out.push(change('Node', '', node, object));
      if (notePool(name, object as Node | undefined)) out.push(...topology.poolsChanged());
      return;
    }
    if (key.startsWith(volumesPrefix)) {
      const name = key.slice(volumesPrefix.length);
      const pv = ev.type === 'DELETED' ? undefined : decode('PersistentVolume', ev.kv);
      const was = sendsVolume(name);
      if (pv && localPathNode(pv) === node) localVolumes.add(name);
      else localVolumes.delete(name);
      if (pv && sendsVolume(name)) out.push(change('PersistentVolume', '', name, pv));
      else if (was) out.push(change('PersistentVolume', '', name));
      return;
    }
    for (const w of widePrefixes) {
      if (!key.startsWith(w.prefix)) continue;
      const [ns, name] = key.slice(w.prefix.length).split('/') as [string, string];
      const object = ev.type === 'DELETED' ? undefined : trimForNode(decode(w.kind, ev.kv));
      if (w.kind === 'EndpointSlice') {
        out.push(...topology.slice(ns, name, object, object ? undefined : decode(w.kind, ev.kv)));
      } else {
        out.push(change(w.kind, ns, name, object));
        out.push(...(await topology.service(ns, name, object, () => slicesOf(ns, rev))));
      }
      return;
    }
    for (const p of refPrefixes) {
      if (!key.startsWith(p.prefix)) continue;
      const [ns, name] = key.slice(p.prefix.length).split('/') as [string, string];
      const r = `${p.kind}/${ns}/${name}`;
      if (!refCount.has(r)) return;
      const obj = ev.type === 'DELETED' ? undefined : decode(p.kind, ev.kv);
      out.push(change(p.kind, ns, name, obj));
      if (p.kind === 'PersistentVolumeClaim') {
        const volume = followClaim(r, obj);
        if (volume) await sendRef(volumeRef(volume), rev, out);
        for (const d of dropped.splice(0)) out.push(change('PersistentVolume', '', d.slice('PersistentVolume//'.length)));
      }
      return;
    }
  }

  // Events are processed strictly in order even though reading references is asynchronous.
  let queue: Promise<void> = Promise.resolve();

  function onBatch(events: readonly WatchEvent[]): void {
    queue = queue.then(async () => {
      if (stopped || events.length === 0) return;
      const out: ObjectChange[] = [];
      for (const ev of events) await onEvent(ev, out);
      const revision = events[events.length - 1]!.kv.modRevision;
      if (out.length > 0) {
        sink.changes(revision, out);
        lastSent = revision;
        lastSentAt = now();
      } else maybeBookmark(revision);
    });
    queue.catch((err: unknown) => fail(err));
  }

  function maybeBookmark(revision: number): void {
    if (revision <= lastSent || now() - lastSentAt < BOOKMARK_EVERY_MS) return;
    sink.bookmark(revision);
    lastSent = revision;
    lastSentAt = now();
  }

  function fail(err: unknown): void {
    if (stopped) return;
    log.error({ err: errorMessage(err), node }, 'the node feed failed');
    stop();
    sink.failed(err instanceof Error ? err : new Error(String(err)));
  }

  function stop(): void {
    stopped = true;
    watch?.close();
  }

  function startWatch(from: number): void {
    watch = store.watch('/registry/', { fromRevision: from }, (msg) => {
      if (msg.kind === 'events') onBatch(msg.events);
      else if (msg.kind === 'progress') {
        queue = queue.then(() => {
          if (!stopped) maybeBookmark(msg.revision);
        });
      } else {
        // Fell behind compaction: start over with a snapshot (the agent replaces its cache).
        watch?.close();
        queue = queue.then(async () => {
          if (stopped) return;
          log.info({ node, err: errorMessage(msg.error) }, 'node watch fell behind compaction: sending a snapshot');
          await relist();
        });
        queue.catch((err: unknown) => fail(err));
      }
    });
  }

  async function relist(): Promise<void> {
    const revision = await store.currentRevision();
    const objects = await load(revision);
    sink.snapshot(revision, objects);
    lastSent = revision;
    lastSentAt = now();
    startWatch(revision);
  }

  async function begin(): Promise<'resume' | 'relist'> {
    const from = opts.fromRevision;
    if (from !== undefined && from > 0 && from >= (await store.compactRevision()) && from <= (await store.currentRevision())) {
      try {
        await load(from);
        lastSent = from;
        startWatch(from);
        return 'resume';
      } catch (err) {
        if (!(err instanceof CompactedError)) throw err;
      }
    }
    await relist();
    return 'relist';
  }

  return begin().then((start) => ({ start, stop }));
}
