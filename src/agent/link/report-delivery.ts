/**
 * Delivers what the kubelet reports (pod and node status, terminated pods, events: the StatusSink)
 * and renews the node Lease, while a synced link is attached. Reports wait in the StatusQueue
 * while the server is unreachable (only the latest status per pod is kept) and are sent when the
 * link returns; one the server could not take for a transient reason (the link dropped, or the
 * server answered LINK_BUSY: its API said 429 or 5xx) is retried every RETRY_MS, one it refused
 * (LINK_REFUSED: the pod is gone or was replaced) is dropped. A pod's final status and its
 * termination are never dropped for a busy server: the pod would stay Running or Terminating.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import { LEASE_DURATION_SECONDS, LEASE_RENEW_INTERVAL_MS } from '../../common/link/protocol.ts';
import type { AckMessage, AgentMessage, WithoutId } from '../../common/link/protocol.ts';
import type { StatusSink } from '../types.ts';
import { StatusQueue } from './status-queue.ts';
import type { QueuedReport } from './status-queue.ts';

/** Undelivered reports are retried this often while connected. */
const RETRY_MS = 5000;

/** A request of the agent: resolves with the ack, rejects with LINK_REFUSED (the server's message), LINK_BUSY (send it again) or LINK_CLOSED. */
export type AgentRequest = (m: WithoutId<Exclude<AgentMessage, AckMessage>>) => Promise<AckMessage>;

export interface ReportDeliveryOptions {
  readonly log: Logger;
  readonly leaseIntervalMs?: number;
  /** A Lease renewal the server confirmed. */
  readonly onLeaseRenewed: () => void;
}

export class ReportDelivery {
  /** Where the kubelet reports (serveStats is the responders'). */
  readonly sink: Required<Omit<StatusSink, 'serveStats'>>;
  private readonly o: ReportDeliveryOptions;
  private readonly queue = new StatusQueue(() => this.flush());
  private readonly inFlight = new Set<string>();
  private request: AgentRequest | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(o: ReportDeliveryOptions) {
    this.o = o;
    const q = this.queue;
    this.sink = {
      podStatus: (pod, status) => q.podStatus(pod, status),
      podTerminated: (pod) => q.podTerminated(pod),
      nodeStatus: (status) => q.nodeStatus(status),
      event: (e) => q.event(e),
    };
  }

  /** The link is synced: renew the Lease now and every interval, and deliver what waits. */
  attach(request: AgentRequest): void {
    this.detach();
    this.request = request;
    void this.renewLease();
    this.timers = [setInterval(() => void this.renewLease(), this.o.leaseIntervalMs ?? LEASE_RENEW_INTERVAL_MS), setInterval(() => this.flush(), RETRY_MS)];
    this.flush();
  }

  /** The link is gone: reports wait again. */
  detach(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.request = undefined;
    this.inFlight.clear();
  }

  private renewLease(): Promise<void> {
    const request = this.request;
    if (!request) return Promise.resolve();
    return request({ type: 'lease', durationSeconds: LEASE_DURATION_SECONDS }).then(
      () => this.o.onLeaseRenewed(),
      (err: unknown) => this.o.log.warn({ err: errorMessage(err) }, 'lease renewal failed'),
    );
  }

  private flush(): void {
    const request = this.request;
    if (!request) return;
    for (const r of this.queue.pending(this.inFlight)) {
      this.inFlight.add(r.key);
      deliver(request, r).then(
        () => {
          this.inFlight.delete(r.key);
          this.queue.delivered(r);
        },
        (err: unknown) => {
          this.inFlight.delete(r.key);
          if (err instanceof LinkError && err.code === LinkErrorCode.LINK_REFUSED) {
            // The server answered: the report cannot be applied (the pod is gone, or was replaced).
            this.o.log.debug({ report: r.key, err: errorMessage(err) }, 'the server refused a report: dropping it');
            this.queue.delivered(r);
          }
        },
      );
    }
  }
}

function deliver(request: AgentRequest, r: QueuedReport): Promise<AckMessage> {
  switch (r.kind) {
    case 'pod':
      return request({ type: 'pod-status', namespace: r.pod.namespace, name: r.pod.name, uid: r.pod.uid, status: r.status });
    case 'terminated':
      return request({ type: 'pod-terminated', namespace: r.pod.namespace, name: r.pod.name, uid: r.pod.uid });
    case 'node':
      return request({ type: 'node-status', status: r.status });
    case 'event':
      return request({ type: 'event', event: r.event });
  }
}
