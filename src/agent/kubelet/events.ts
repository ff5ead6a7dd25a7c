import type { Pod } from 'kubernetes-types/core/v1';
import type { StatusSink } from '../types.ts';

/**
 * Emits core/v1 Events for pods through the StatusSink. Warnings and BackOff repeat while a
 * condition lasts (every probe period, every retry); like client-go's event correlator, an
 * identical one (same object, reason, message) within `dedupMs` is dropped, which also bounds what
 * the link queues while offline. Lifecycle events (Pulling, Created, Started, Killing, …) always
 * pass: each restart is worth seeing.
 */
export class EventRecorder {
  private readonly sink: StatusSink;
  private readonly now: () => number;
  private readonly dedupMs: number;
  private readonly recent = new Map<string, number>();

  constructor(sink: StatusSink, now: () => number, dedupMs = 30_000) {
    this.sink = sink;
    this.now = now;
    this.dedupMs = dedupMs;
  }

  pod(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: { name: string; init?: boolean; ephemeral?: boolean }): void {
    const m = pod.metadata ?? {};
    const list = container?.ephemeral ? 'ephemeralContainers' : container?.init ? 'initContainers' : 'containers';
    const fieldPath = container ? `spec.${list}{${container.name}}` : undefined;
    const key = `${m.uid}/${fieldPath ?? ''}/${reason}/${message}`;
    const at = this.now();
    if (type === 'Warning' || reason === 'BackOff') {
      const last = this.recent.get(key);
      if (last !== undefined && at - last < this.dedupMs) return;
      this.recent.set(key, at);
      if (this.recent.size > 2000) this.prune(at);
    }
    this.sink.event({
      involvedObject: { kind: 'Pod', namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '', ...(fieldPath ? { fieldPath } : {}) },
      type, reason, message, at,
    });
  }

  private prune(at: number): void {
    for (const [k, t] of this.recent) if (at - t >= this.dedupMs) this.recent.delete(k);
  }
}
