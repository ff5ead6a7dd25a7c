import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';
import { podUidLabel } from './labels.ts';
import type { PodRuntimeCache } from './pod-runtime-cache.ts';

/**
 * kubelet's Pod Lifecycle Event Generator (pkg/kubelet/pleg/generic.go): one relist of all
 * sandboxes and containers per period (two CRI calls however many pods run), compared with the
 * previous relist; a pod whose sandbox or container appeared, vanished or changed state gets its
 * worker woken and loses its entry in the PodRuntimeCache (so every other entry stays current).
 * This is what notices a crashed container within a second without every pod worker polling the
 * runtime. A runtime that tells when anything changed (`stateVersion`: the in-memory runtime of
 * bench/fleet's hollow nodes) is not listed in a period in which nothing did: that relist would
 * find what the previous one found.
 */
export class Pleg {
  private readonly runtime: ContainerRuntime;
  private readonly periodMs: number;
  private readonly onPodChanged: (uid: string) => void;
  private readonly log: Logger;
  private readonly observe: ((seconds: number) => void) | undefined;
  private readonly cache: PodRuntimeCache | undefined;
  private last = new Map<string, string>();
  /** The runtime's stateVersion when the last listing began (undefined: none, or it has none). */
  private lastVersion: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(o: { runtime: ContainerRuntime; periodMs: number; log: Logger; onPodChanged: (uid: string) => void; observe?: (seconds: number) => void; cache?: PodRuntimeCache }) {
    this.runtime = o.runtime;
    this.cache = o.cache;
    this.observe = o.observe;
    this.periodMs = o.periodMs;
    this.onPodChanged = o.onPodChanged;
    this.log = o.log;
  }

  start(): void {
    const loop = (): void => {
      this.timer = setTimeout(() => {
        void this.relist().catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'relist failed'))
          .finally(() => { if (!this.stopped) loop(); });
      }, this.periodMs);
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One relist; returns the uids whose runtime state changed since the previous one. */
  async relist(): Promise<Set<string>> {
    const started = performance.now();
    const at = this.cache?.now();
    // Read before listing: a change while the lists are taken moves it past what is kept.
    const version = this.runtime.stateVersion?.();
    if (version !== undefined && version === this.lastVersion) {
      this.observe?.((performance.now() - started) / 1000);
      if (at !== undefined) this.cache?.relisted(at);
      return new Set();
    }
    const [sandboxes, containers] = await Promise.all([this.runtime.listPodSandboxes(), this.runtime.listContainers()]);
    const now = new Map<string, string>();
    const uidOf = new Map<string, string>();
    for (const s of sandboxes) {
      const uid = s.labels[podUidLabel];
      if (!uid) continue;
      now.set(s.id, `${uid}|${s.state}`);
      uidOf.set(s.id, uid);
    }
    for (const c of containers) {
      const uid = c.labels[podUidLabel];
      if (!uid) continue;
      now.set(c.id, `${uid}|${c.state}`);
      uidOf.set(c.id, uid);
    }
    const changed = new Set<string>();
    for (const [id, v] of now) if (this.last.get(id) !== v) changed.add(uidOf.get(id)!);
    for (const [id, v] of this.last) if (!now.has(id)) changed.add(v.split('|')[0]!);
    this.last = now;
    this.lastVersion = version;
    this.observe?.((performance.now() - started) / 1000);
    // What the workers saw of a changed pod is stale: they read the runtime again.
    for (const uid of changed) this.cache?.invalidate(uid);
    if (at !== undefined) this.cache?.relisted(at);
    for (const uid of changed) this.onPodChanged(uid);
    return changed;
  }
}
