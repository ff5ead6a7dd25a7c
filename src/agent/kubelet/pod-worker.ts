import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import { isKubeletPodCondition } from '../../common/pod-conditions.ts';
import type { KubeJson } from '../types.ts';
import type { KubeletContext } from './context.ts';
import { killPod, removePod } from './pod-kill.ts';
import { podRef } from './pod-state.ts';
import type { PodState } from './pod-state.ts';
import { computePodStatus, isTerminal } from './pod-status.ts';
import { syncRunningPod } from './pod-sync.ts';
import { PodProbes } from './probes.ts';
import { inspectPod } from './runtime-pod.ts';
import type { RuntimePod } from './runtime-pod.ts';

/**
 * What a pass acts on: the pod without the fields every write changes, and of its status only the
 * status of each condition other components own (a readiness gate's decides Ready: upstream's pod
 * config reconciles a status change that moves readiness; a controller refreshing only its
 * condition's probe time wakes nothing). Our own conditions coming back through the server change
 * nothing here.
 */
function desiredState(pod: Pod): string {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = pod.metadata ?? {};
  const external = pod.status?.conditions?.filter((c) => !isKubeletPodCondition(c.type)).map((c) => [c.type, c.status]);
  return JSON.stringify({ metadata, spec: pod.spec, external });
}

/**
 * The periodic resync stretched by up to half at random (kubelet's workerResyncIntervalJitterFactor
 * 0.5): pods created together would otherwise resync together forever, one burst of CRI calls
 * every period that stalls the agent's event loop — and the cluster DNS answered on it — for tens
 * of milliseconds (bench/services/README.md, "DNS latency").
 */
const jittered = (ms: number) => Math.round(ms * (1 + 0.5 * Math.random()));

/**
 * One pod's worker (kubelet's podWorkers): syncs are serialized; a change from the cache, a probe
 * result or a timer asks for another pass, and requests during a pass collapse into one more.
 * Each pass reads the desired pod and the runtime afresh, converges, and reports the status only
 * when it changed. The worker never stops containers on its own shutdown: an agent restart must
 * leave pods running for the next agent to adopt.
 */
export class PodWorker {
  readonly uid: string;
  /** Resolves after the first pass (whatever its outcome), for the kubelet's `ready`. */
  readonly firstPass: Promise<void>;
  private readonly ctx: KubeletContext;
  private readonly st: PodState;
  private readonly onGone: (uid: string) => void;
  private markFirstPass!: () => void;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(ctx: KubeletContext, uid: string, pod: Pod | undefined, onGone: (uid: string) => void) {
    this.ctx = ctx;
    this.uid = uid;
    this.onGone = onGone;
    this.firstPass = new Promise((r) => { this.markFirstPass = r; });
    this.st = {
      uid, pod, lastPod: pod, waiting: new Map(), lastStatus: undefined, startTimeMs: undefined, hosts: undefined,
      hashWarned: new Set(), ownedVolumes: new Set(), terminatedReported: false,
      probes: new PodProbes({ runtime: ctx.runtime, events: ctx.events, log: ctx.log, onChange: () => this.kick(0) }),
    };
    this.kick(0);
  }

  /** The desired pod changed (undefined: it left the cache). */
  update(pod: Pod | undefined): void {
    const previous = this.st.pod;
    this.st.pod = pod;
    if (pod) this.st.lastPod = pod;
    // Our own status report coming back through the server changes nothing to do (kubelet's pod
    // config compares everything but the status). Waking on it would loop while a status message
    // changes from pass to pass (a runtime error naming a fresh container id). A condition another
    // component set (a readiness gate's) does wake it: Ready is recomputed now, not at the resync.
    if (pod && previous && desiredState(pod) === desiredState(previous)) return;
    this.kick(0);
  }

  get pod(): Pod | undefined {
    return this.st.pod;
  }

  kick(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      if (delayMs === 0) this.again = true;
      return;
    }
    const at = this.ctx.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.run();
    }, delayMs);
  }

  /** Stops the worker (not the pod): timers and probes end, an in-flight pass finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.st.probes.stopAll();
    await this.running;
    this.markFirstPass();
  }

  private async run(): Promise<void> {
    let next = this.ctx.resyncMs;
    let gone = false;
    this.running = (async () => {
      const started = performance.now();
      try {
        const r = await this.pass();
        this.ctx.observePodSync?.((performance.now() - started) / 1000);
        if (r === 'gone') gone = true;
        else next = r;
      } catch (err) {
        this.ctx.log.warn({ pod: this.st.lastPod ? podRef(this.st.lastPod) : { uid: this.uid }, err: errorMessage(err) }, 'pod sync failed; retrying');
        next = Math.min(this.ctx.resyncMs, 2000);
      }
    })();
    await this.running;
    this.running = undefined;
    this.markFirstPass();
    if (gone) {
      this.stopped = true;
      this.onGone(this.uid);
      return;
    }
    if (this.again) {
      this.again = false;
      next = 0;
    }
    this.kick(next >= this.ctx.resyncMs ? jittered(this.ctx.resyncMs) : next);
  }

  /** One pass, and what it saw of the runtime last kept for the next (PodRuntimeCache). */
  private async pass(): Promise<number | 'gone'> {
    const cache = this.ctx.podRuntime;
    const token = cache?.token(this.uid);
    const r = await this.converge(cache?.get(this.uid));
    if (r !== 'gone' && cache && token !== undefined) cache.set(this.uid, r.rt, token);
    return r === 'gone' ? r : r.nextMs;
  }

  /**
   * Reads the runtime (unless the cache holds the pod as the PLEG last confirmed it), converges,
   * and returns the runtime as it stands after the pass: re-inspected after anything it did.
   */
  private async converge(cached: RuntimePod | undefined): Promise<{ rt: RuntimePod; nextMs: number } | 'gone'> {
    const { ctx, st } = this;
    const pod = st.pod;
    let rt = cached ?? await inspectPod(ctx.runtime, ctx.rootDir, this.uid);
    if (!pod) {
      await removePod(ctx, st, rt);
      return 'gone';
    }
    if (pod.metadata?.deletionTimestamp) {
      await killPod(ctx, st, pod, rt);
      rt = await inspectPod(ctx.runtime, ctx.rootDir, this.uid);
      this.report(pod, rt, true);
      if (!st.terminatedReported && !rt.containers.some((c) => c.state === 'running')) {
        st.terminatedReported = true;
        ctx.status.podTerminated?.(podRef(pod));
      }
      return { rt, nextMs: Math.min(ctx.resyncMs, 2000) };
    }
    if (isTerminal(st.lastStatus ?? pod.status)) {
      // Succeeded/Failed is final: nothing restarts, the sandbox is stopped (kubelet's terminated pods).
      if (rt.containers.some((c) => c.state === 'running') || rt.sandboxes.some((s) => s.state === 'ready')) {
        await killPod(ctx, st, pod, rt);
        rt = await inspectPod(ctx.runtime, ctx.rootDir, this.uid);
      }
      this.report(pod, rt, false);
      return { rt, nextMs: ctx.resyncMs };
    }
    const r = await syncRunningPod(ctx, st, pod, rt);
    const status = this.report(pod, r.rt, false);
    return { rt: r.rt, nextMs: isTerminal(status) ? 0 : r.nextMs };
  }

  /** Computes the status and hands it to the StatusSink when it differs from the last one. */
  private report(pod: Pod, rt: RuntimePod, terminating: boolean): PodStatus {
    const { ctx, st } = this;
    const previous = st.lastStatus ?? pod.status;
    if (st.startTimeMs === undefined) {
      const cached = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
      const oldest = rt.sandboxes.at(-1)?.createdAtMs;
      st.startTimeMs = Number.isFinite(cached) ? cached : oldest || ctx.now();
    }
    const status = computePodStatus({
      pod, rt, hostIP: ctx.node().hostIP, waiting: st.waiting,
      probe: (name, id) => {
        const p = st.probes.get(name, id);
        if (p) return p;
        // No prober yet (the container started in this very pass): the probers' initial results.
        const c = pod.spec?.containers.find((x) => x.name === name);
        return c && { started: !c.startupProbe, ready: !c.startupProbe && !c.readinessProbe };
      },
      previous, startTimeMs: st.startTimeMs, now: ctx.now(), terminating,
    });
    if (JSON.stringify(status) !== JSON.stringify(st.lastStatus)) {
      st.lastStatus = status;
      ctx.status.podStatus(podRef(pod), status as KubeJson);
    }
    return status;
  }
}
