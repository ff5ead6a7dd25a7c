import type { Container, Pod, Probe } from 'kubernetes-types/core/v1';
import type { Logger } from '../../common/log.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';
import type { EventRecorder } from './events.ts';
import { runAction } from './handlers.ts';

export type ProbeType = 'liveness' | 'readiness' | 'startup';

const label: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export interface ProbeDeps {
  runtime: ContainerRuntime;
  events: EventRecorder;
  log: Logger;
  /** A result flipped: the pod worker recomputes status (and restarts a container whose liveness failed). */
  onChange(): void;
}

interface Target {
  pod: Pod;
  container: Container;
  init: boolean;
  containerId: string;
  startedAtMs: number;
  podIP: string;
}

/**
 * The probes of one running container instance (kubelet's prober workers, pkg/kubelet/prober).
 * A result changes only after failureThreshold consecutive failures or successThreshold
 * consecutive successes; no probe runs before initialDelaySeconds after the container started;
 * liveness and readiness wait until the startup probe succeeded. Initial results: not ready, not
 * started (when a startup probe exists), alive. A failed liveness or startup probe holds its
 * worker until the container is replaced. Every failed attempt is an Unhealthy event.
 */
export class ContainerProbes {
  ready: boolean;
  started: boolean;
  /** Set when liveness or startup failed: the container must be restarted. */
  failed: { type: ProbeType; message: string } | undefined;
  readonly containerId: string;
  private readonly t: Target;
  private readonly d: ProbeDeps;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ac = new AbortController();
  private readonly counts: Record<ProbeType, { ok: number; fail: number }> = {
    liveness: { ok: 0, fail: 0 }, readiness: { ok: 0, fail: 0 }, startup: { ok: 0, fail: 0 },
  };

  constructor(t: Target, d: ProbeDeps) {
    this.t = t;
    this.d = d;
    this.containerId = t.containerId;
    const c = t.container;
    this.started = !c.startupProbe;
    this.ready = !c.readinessProbe && this.started;
    for (const type of ['startup', 'liveness', 'readiness'] as const) {
      const p = this.probe(type);
      if (p) this.schedule(type, p, Math.max(0, t.startedAtMs + (p.initialDelaySeconds ?? 0) * 1000 - Date.now()));
    }
  }

  stop(): void {
    this.ac.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private probe(type: ProbeType): Probe | undefined {
    const c = this.t.container;
    return type === 'liveness' ? c.livenessProbe : type === 'readiness' ? c.readinessProbe : c.startupProbe;
  }

  private schedule(type: ProbeType, p: Probe, delayMs: number): void {
    if (this.ac.signal.aborted) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.run(type, p).finally(() => {
        if (this.failed && type !== 'readiness') return;
        if (type === 'startup' && this.started) return;
        this.schedule(type, p, (p.periodSeconds ?? 10) * 1000);
      });
    }, delayMs);
    this.timers.add(timer);
  }

  private async run(type: ProbeType, p: Probe): Promise<void> {
    if (type !== 'startup' && !this.started) return;
    const r = await runAction(p, {
      runtime: this.d.runtime, containerId: this.t.containerId, container: this.t.container, podIP: this.t.podIP,
      timeoutSeconds: p.timeoutSeconds ?? 1, signal: this.ac.signal,
    });
    if (this.ac.signal.aborted) return;
    const n = this.counts[type];
    if (r.ok) {
      n.ok++;
      n.fail = 0;
    } else {
      n.fail++;
      n.ok = 0;
      this.d.events.pod(this.t.pod, 'Warning', 'Unhealthy', `${label[type]} probe failed: ${r.message}`.trim(), { name: this.t.container.name, init: this.t.init });
    }
    const okThreshold = type === 'readiness' ? (p.successThreshold ?? 1) : 1;
    const failThreshold = p.failureThreshold ?? 3;
    let changed = false;
    if (type === 'readiness') {
      if (!this.ready && n.ok >= okThreshold) [this.ready, changed] = [true, true];
      if (this.ready && n.fail >= failThreshold) [this.ready, changed] = [false, true];
    } else if (type === 'startup') {
      if (n.ok >= okThreshold) {
        this.started = true;
        this.ready = !this.t.container.readinessProbe;
        changed = true;
      } else if (n.fail >= failThreshold) {
        this.failed = { type, message: r.message };
        changed = true;
      }
    } else if (n.fail >= failThreshold && !this.failed) {
      this.failed = { type, message: r.message };
      changed = true;
    }
    if (changed) {
      this.d.log.debug({ pod: this.t.pod.metadata?.name, container: this.t.container.name, type, ready: this.ready, started: this.started, failed: !!this.failed }, 'probe result changed');
      this.d.onChange();
    }
  }
}

/** The probe workers of one pod, keyed by container name, replaced when the container instance changes. */
export class PodProbes {
  private readonly byName = new Map<string, ContainerProbes>();
  private readonly d: ProbeDeps;

  constructor(d: ProbeDeps) {
    this.d = d;
  }

  /** The probes of this running instance, started on first sight. */
  ensure(t: Target): ContainerProbes {
    const cur = this.byName.get(t.container.name);
    if (cur?.containerId === t.containerId) return cur;
    cur?.stop();
    const p = new ContainerProbes(t, this.d);
    this.byName.set(t.container.name, p);
    return p;
  }

  get(name: string, containerId: string): ContainerProbes | undefined {
    const p = this.byName.get(name);
    return p?.containerId === containerId ? p : undefined;
  }

  /** Stops workers whose container is no longer running. */
  retain(running: Map<string, string>): void {
    for (const [name, p] of this.byName) {
      if (running.get(name) !== p.containerId) {
        p.stop();
        this.byName.delete(name);
      }
    }
  }

  stopAll(): void {
    for (const p of this.byName.values()) p.stop();
    this.byName.clear();
  }
}
