import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistentVolume, Pod } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { NodeStatsReport } from '../../common/link/protocol.ts';
import type { PodIpKeeper } from '../../runtime/cni/pod-ip-keeper.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';
import type { AgentCache, CacheChange, StatusSink } from '../types.ts';
import { Backoff, crashLoopBackoff, imagePullBackoff } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { KubeletContext } from './context.ts';
import { hostResolvConfReader } from './dns.ts';
import type { ClusterDns } from './dns.ts';
import { EventRecorder } from './events.ts';
import { ImageManager } from './images.ts';
import { podUidLabel } from './labels.ts';
import { NodeStatusReporter } from './node-status.ts';
import { Pleg } from './pleg.ts';
import { StatsCollector } from './stats.ts';
import { cacheClaimSource, CachedObjectSource, podKey } from './objects.ts';
import { PodRuntimeCache } from './pod-runtime-cache.ts';
import { PodWorker } from './pod-worker.ts';
import { QosCgroups } from './qos-cgroups.ts';
import type { ServiceForEnv } from './service-env.ts';
import { StartGate, defaultPodStartConcurrency } from './start-gate.ts';
import type { TokenSource } from './volumes.ts';

const constant = <T>(v: T) => () => v;

/** Upstream kubelet's --sync-frequency default. */
export const DEFAULT_RESYNC_MS = 60_000;

export interface KubeletOptions {
  nodeName: string;
  runtime: ContainerRuntime;
  cache: AgentCache;
  status: StatusSink;
  log: Logger;
  /** Where volumes, managed /etc/hosts and termination-message files live (<rootDir>/pods/<uid>). */
  rootDir: string;
  /** Parent of the pods' log directories (<podLogDir>/<ns>_<name>_<uid>); default: the runtime's own. */
  podLogDir?: string;
  /** Gives a recreated sandbox its pod's previous IP (docs/podnet.md, "Pod addresses"). */
  podIps?: PodIpKeeper;
  clock?: () => number;
  /** --cluster-dns / --cluster-domain (or a function read at each pod start); without servers ClusterFirst pods fall back to the host's DNS. */
  clusterDns?: Partial<ClusterDns> | (() => ClusterDns);
  /** Tokens for projected serviceAccountToken sources; without one those files are left out (with an event). */
  tokenSource?: TokenSource;
  /** The cluster's Services, for the containers' service environment variables (none without it). */
  services?: () => Iterable<ServiceForEnv>;
  /** Runtime relist period that wakes pods whose containers changed (kubelet's PLEG, default 1 s). */
  relistMs?: number;
  /**
   * How often each pod worker syncs when nothing woke it (kubelet's --sync-frequency, default 1 min;
   * stretched by up to half at random). Everything a user waits for wakes the worker when it
   * happens: the PLEG (a container started, exited, died), the cache (the pod, a ConfigMap, Secret,
   * claim or volume it uses changed), probes, back-off and image-pull retry times, a projected
   * token's renewal time, a failed pass (2 s); docs/kubelet.md, "Pod resync".
   */
  resyncMs?: number;
  /** Orphan scan and full cache relist (default 10 s). */
  housekeepingMs?: number;
  /** Node status sampling (default 10 s). */
  nodeStatusMs?: number;
  /** Local readings of resource usage that on-demand samples rate against (StatusSink.serveStats, metrics.k8s.io; default 15 s). */
  statsMs?: number;
  crashLoopBackoff?: BackoffPolicy;
  imagePullBackoff?: BackoffPolicy;
  /** Durations for the node's metrics (kubelet_pleg_relist_duration_seconds, kubelet_pod_worker_duration_seconds). */
  observe?: KubeletObserver;
  /**
   * The kubepods cgroup (`/kubepods`) under which pods get their QoS and pod cgroups
   * (qos-cgroups.ts); none: containerd's default cgroups (`/k8s.io/<id>`).
   */
  podCgroupRoot?: string;
  /** Sandbox and container starts at a time (start-gate.ts; default defaultPodStartConcurrency(), Infinity: unbounded). */
  podStartConcurrency?: number;
}

export interface KubeletObserver {
  plegRelist(seconds: number): void;
  podSync(seconds: number): void;
}

export interface Kubelet {
  /** Resolves once every pod found at start (cached, or a sandbox in the runtime) had its first sync. */
  readonly ready: Promise<void>;
  /** Returns once workers for the cached pods run (adoption happens in their first pass). */
  start(signal: AbortSignal): Promise<void>;
  /** Stops syncing; containers keep running (the next agent adopts them). */
  stop(): Promise<void>;
  /** Usage now with CPU rates, the sample metrics.k8s.io gets (shared by concurrent callers). */
  sampleStats(): Promise<NodeStatsReport>;
}

/**
 * The edge kubelet: one worker per pod bound to this node in the AgentCache, plus one per pod
 * sandbox in the runtime that has no pod any more (it is stopped and removed). Workers wake on
 * cache changes (the pod, or a ConfigMap/Secret of its namespace), on probe results and every
 * resync period; a housekeeping pass relists both sides every 10 s. Node status is sampled every
 * 10 s and reported when it changed.
 */
export class EdgeKubelet implements Kubelet {
  readonly ready: Promise<void>;
  private readonly o: KubeletOptions;
  private readonly ctx: KubeletContext;
  private readonly nodeStatus: NodeStatusReporter;
  private readonly pleg: Pleg;
  private readonly stats: StatsCollector;
  private readonly objects: CachedObjectSource;
  private readonly workers = new Map<string, PodWorker>();
  /** namespace/name → uid, so a deletion notice (which carries no uid) finds its worker. */
  private readonly uidByName = new Map<string, string>();
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private unsubscribe: (() => void) | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Pod changes heard from the cache, and how many the last relist had heard (it saw them all). */
  private podChanges = 0;
  private podChangesListed = -1;
  /** The runtime's stateVersion at the last relist's sandbox listing (when it has one). */
  private runtimeListed: number | undefined;

  constructor(o: KubeletOptions) {
    this.o = o;
    this.ready = new Promise((res, rej) => { this.resolveReady = res; this.rejectReady = rej; });
    this.ready.catch(() => {});
    const now = o.clock ?? Date.now;
    const log = o.log.child({ component: 'kubelet' });
    const events = new EventRecorder(o.status, now);
    const objects = new CachedObjectSource(o.cache);
    this.objects = objects;
    const relistMs = o.relistMs ?? 1000;
    // Entries are served while the PLEG's relists succeed: after 10 s (or three periods) without
    // one, workers inspect the runtime themselves again.
    const podRuntime = new PodRuntimeCache({ now, maxRelistAgeMs: Math.max(3 * relistMs, 10_000) });
    this.nodeStatus = new NodeStatusReporter({ runtime: o.runtime, sink: o.status, log, rootDir: o.rootDir, now, intervalMs: o.nodeStatusMs });
    this.ctx = {
      nodeName: o.nodeName, runtime: o.runtime, cache: o.cache, objects, claims: cacheClaimSource(o.cache), status: o.status, events, log,
      rootDir: o.rootDir, podLogDir: o.podLogDir, now,
      crashBackoff: new Backoff(o.crashLoopBackoff ?? crashLoopBackoff, now),
      images: new ImageManager({ runtime: o.runtime, objects, events, backoff: new Backoff(o.imagePullBackoff ?? imagePullBackoff, now), now }),
      clusterDns: typeof o.clusterDns === 'function' ? o.clusterDns : constant({ servers: o.clusterDns?.servers ?? [], domain: o.clusterDns?.domain ?? 'cluster.local' }),
      hostDns: () => hostResolvConfReader.read(),
      node: () => this.nodeStatus.facts(),
      tokenSource: o.tokenSource,
      services: o.services ?? (() => []),
      resyncMs: o.resyncMs ?? DEFAULT_RESYNC_MS,
      podRuntime,
      starts: new StartGate(o.podStartConcurrency ?? defaultPodStartConcurrency()),
      ...(o.podIps ? { podIps: o.podIps } : {}),
      ...(o.observe ? { observePodSync: (seconds: number) => o.observe!.podSync(seconds) } : {}),
      ...(o.podCgroupRoot ? { qos: new QosCgroups({ root: o.podCgroupRoot, recordFile: join(o.rootDir, 'cgroup-root'), log }) } : {}),
    };
    this.stats = new StatsCollector({ runtime: o.runtime, sink: o.status, log, now, ...(o.statsMs ? { intervalMs: o.statsMs } : {}) });
    this.pleg = new Pleg({ runtime: o.runtime, periodMs: relistMs, log, cache: podRuntime, onPodChanged: (uid) => this.workers.get(uid)?.kick(0), ...(o.observe ? { observe: (s: number) => o.observe!.plegRelist(s) } : {}) });
  }

  async start(signal: AbortSignal): Promise<void> {
    try {
      await mkdir(this.o.rootDir, { recursive: true, mode: 0o750 });
      await this.o.runtime.ready;
      await this.nodeStatus.start();
      // The QoS tree before any sandbox: after a reboot the cached pods are recreated in it. A host
      // whose cgroups cannot be written still runs pods, in containerd's default cgroups.
      await this.ctx.qos?.start(this.nodeStatus.facts().allocatable).catch((err: unknown) => {
        this.ctx.log.warn({ cgroup: this.ctx.qos?.root, err: errorMessage(err) }, "QoS cgroups cannot be created; pods run in the container runtime's default cgroups");
      });
      this.unsubscribe = this.o.cache.subscribe((c) => this.onChange(c));
      await this.pleg.relist();
      await this.relist();
      this.pleg.start();
      this.stats.start();
    } catch (err) {
      this.rejectReady(err as Error);
      throw err;
    }
    // Readiness is a signal, not part of start(): a first pass may wait on a long image pull.
    const first = [...this.workers.values()];
    void Promise.all(first.map((w) => w.firstPass)).then(() => {
      this.ctx.log.info({ pods: first.length }, 'kubelet ready');
      this.resolveReady();
    });
    const loop = (): void => {
      this.housekeeping = setTimeout(() => {
        void this.relist().catch((err: unknown) => this.ctx.log.warn({ err: errorMessage(err) }, 'housekeeping failed'))
          .finally(() => { if (!this.stopped) loop(); });
      }, this.o.housekeepingMs ?? 10_000);
    };
    loop();
    signal.addEventListener('abort', () => { void this.stop(); }, { once: true });
  }

  sampleStats(): Promise<NodeStatsReport> {
    return this.stats.sample();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.housekeeping);
    this.unsubscribe?.();
    this.nodeStatus.stop();
    this.stats.stop();
    this.pleg.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  private mine(pod: Pod | undefined): pod is Pod {
    return !!pod?.metadata?.uid && pod.spec?.nodeName === this.o.nodeName;
  }

  private worker(uid: string, pod: Pod | undefined): void {
    if (this.stopped) return;
    const w = this.workers.get(uid);
    if (w) {
      w.update(pod);
      return;
    }
    this.workers.set(uid, new PodWorker(this.ctx, uid, pod, (gone) => {
      this.workers.delete(gone);
      this.ctx.podRuntime?.forget(gone);
    }));
  }

  private setPod(pod: Pod): void {
    const key = podKey(pod);
    const uid = pod.metadata!.uid!;
    const old = this.uidByName.get(key);
    // Same name, new uid: the old pod was deleted and recreated while we were not looking.
    if (old && old !== uid) this.workers.get(old)?.update(undefined);
    this.uidByName.set(key, uid);
    this.worker(uid, pod);
  }

  private onChange(c: CacheChange): void {
    if (this.stopped) return;
    if (c.kind === 'Pod') {
      this.podChanges++;
      const key = `${c.namespace}/${c.name}`;
      const pod = c.object as Pod | undefined;
      if (this.mine(pod)) {
        // Our own status reports come back as changes too: the shares move only with a new pod or
        // one that finished (housekeeping recomputes them every 10 s anyway).
        const known = this.workers.has(pod.metadata!.uid!);
        this.setPod(pod);
        if (!known || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') void this.updateQos();
        return;
      }
      const uid = this.uidByName.get(key);
      this.uidByName.delete(key);
      if (uid) this.workers.get(uid)?.update(undefined);
      void this.updateQos();
    } else if (c.kind === 'ConfigMap' || c.kind === 'Secret') {
      this.objects.changed(c.kind, c.namespace, c.name);
      // A pod may be waiting for it (CreateContainerConfigError, FailedMount) or mount it.
      for (const w of this.workers.values()) if (w.pod?.metadata?.namespace === c.namespace) w.kick(0);
    } else if (c.kind === 'PersistentVolumeClaim') {
      this.kickClaimUsers(c.namespace, c.name);
    } else if (c.kind === 'PersistentVolume') {
      const ref = (c.object as PersistentVolume | undefined)?.spec?.claimRef;
      if (ref?.name) this.kickClaimUsers(ref.namespace ?? '', ref.name);
      else for (const w of this.workers.values()) if (w.pod?.spec?.volumes?.some((v) => v.persistentVolumeClaim)) w.kick(0);
    }
  }

  /**
   * Only the pods that mount the claim, or the volume bound to it: while a StatefulSet starts, each
   * claim and volume changes several times (bound, then both statuses), and a pass of every
   * claim-using pod on each change would be that many CRI round trips competing with the starts.
   */
  private kickClaimUsers(namespace: string, claim: string): void {
    for (const w of this.workers.values()) {
      const pod = w.pod;
      if (pod?.metadata?.namespace === namespace && pod.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === claim)) w.kick(0);
    }
  }

  /**
   * Full relist: cached pods get (or update) workers; sandboxes of unknown pods get a removing
   * worker. Either side is skipped when it cannot have changed since the last relist: the cache
   * when no Pod change was heard since (every committed change reaches the subscription), the
   * runtime when its stateVersion did not move (a runtime without one is always listed).
   */
  private async relist(): Promise<void> {
    const changes = this.podChanges;
    if (changes !== this.podChangesListed) {
      const pods = ((await this.o.cache.list('Pod')) as Pod[]).filter((p) => this.mine(p));
      const desired = new Set(pods.map((p) => p.metadata!.uid!));
      for (const p of pods) {
        const w = this.workers.get(p.metadata!.uid!);
        if (!w || JSON.stringify(w.pod) !== JSON.stringify(p)) this.setPod(p);
      }
      for (const [uid, w] of this.workers) if (!desired.has(uid) && w.pod) w.update(undefined);
      this.podChangesListed = changes;
    }
    const version = this.o.runtime.stateVersion?.();
    if (version === undefined || version !== this.runtimeListed) {
      for (const s of await this.o.runtime.listPodSandboxes()) {
        const uid = s.labels[podUidLabel];
        // A sandbox of a pod without a worker: every cached pod of this node has one (above, and
        // onChange), so its pod is not in the cache.
        if (uid && !this.workers.has(uid)) {
          this.ctx.log.info({ uid, pod: `${s.metadata.namespace}/${s.metadata.name}` }, 'sandbox of a pod not in the cache; removing');
          this.worker(uid, undefined);
        }
      }
      this.runtimeListed = version;
    }
    // The QoS tree: the burstable shares, and pod cgroups of pods no worker knows (a crash between
    // a sandbox's removal and its cgroup's; every sandbox of an unknown pod has a worker by now).
    const qos = this.ctx.qos;
    if (qos) {
      await this.updateQos();
      await qos.removeOrphans(new Set(this.workers.keys()));
    }
  }

  /** The burstable cgroup's shares from the pods that run or will (kubelet's UpdateQOSCgroups over its active pods). */
  private updateQos(): Promise<void> {
    const qos = this.ctx.qos;
    if (!qos) return Promise.resolve();
    const active = [...this.workers.values()].map((w) => w.pod)
      .filter((p): p is Pod => !!p && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    return qos.updateBurstable(active);
  }
}

export function createKubelet(o: KubeletOptions): Kubelet {
  return new EdgeKubelet(o);
}
