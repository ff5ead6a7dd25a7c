/**
 * The StatusSink of the agent: reports wait here while the server is unreachable. Only the latest
 * status per pod and for the node is kept (a pod that went Pending → Running → Failed offline is
 * reported as Failed); events queue in order up to a bound, oldest dropped first.
 */
import type { AgentEvent, KubeJson, StatusSink } from '../types.ts';

export const MAX_QUEUED_EVENTS = 1000;

export type QueuedReport =
  | { readonly kind: 'pod'; readonly key: string; readonly pod: { namespace: string; name: string; uid: string }; readonly status: KubeJson; readonly seq: number }
  | { readonly kind: 'terminated'; readonly key: string; readonly pod: { namespace: string; name: string; uid: string }; readonly seq: number }
  | { readonly kind: 'node'; readonly key: string; readonly status: KubeJson; readonly seq: number }
  | { readonly kind: 'event'; readonly key: string; readonly event: AgentEvent; readonly seq: number };

export class StatusQueue implements StatusSink {
  private readonly latest = new Map<string, QueuedReport>();
  private readonly events: QueuedReport[] = [];
  private seq = 0;
  private readonly onChange: () => void;

  constructor(onChange: () => void) {
    this.onChange = onChange;
  }

  podStatus(pod: { namespace: string; name: string; uid: string }, status: KubeJson): void {
    const key = `pod/${pod.namespace}/${pod.name}/${pod.uid}`;
    this.latest.set(key, { kind: 'pod', key, pod: { ...pod }, status, seq: ++this.seq });
    this.onChange();
  }

  /** The pod is gone from the node: a pending status for it is moot; the server deletes the object. */
  podTerminated(pod: { namespace: string; name: string; uid: string }): void {
    this.latest.delete(`pod/${pod.namespace}/${pod.name}/${pod.uid}`);
    const key = `terminated/${pod.namespace}/${pod.name}/${pod.uid}`;
    this.latest.set(key, { kind: 'terminated', key, pod: { ...pod }, seq: ++this.seq });
    this.onChange();
  }

  nodeStatus(status: KubeJson): void {
    this.latest.set('node', { kind: 'node', key: 'node', status, seq: ++this.seq });
    this.onChange();
  }

  event(e: AgentEvent): void {
    this.events.push({ kind: 'event', key: `event/${++this.seq}`, event: e, seq: this.seq });
    if (this.events.length > MAX_QUEUED_EVENTS) this.events.shift();
    this.onChange();
  }

  /** What is waiting, excluding the keys in `inFlight`. */
  pending(inFlight: ReadonlySet<string>): QueuedReport[] {
    return [...this.latest.values(), ...this.events].filter((r) => !inFlight.has(r.key));
  }

  /** The report was delivered: drop it unless a newer one replaced it meanwhile. */
  delivered(r: QueuedReport): void {
    if (r.kind === 'event') {
      const i = this.events.indexOf(r);
      if (i >= 0) this.events.splice(i, 1);
    } else if (this.latest.get(r.key)?.seq === r.seq) this.latest.delete(r.key);
  }

  get size(): number {
    return this.latest.size + this.events.length;
  }
}
