// Shared by the kubelet tests: a StatusSink that records everything, pod builders, polling.
import { randomUUID } from 'node:crypto';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { AgentEvent, KubeJson, StatusSink } from '../../../src/agent/types.ts';

export class RecordingSink implements StatusSink {
  readonly statuses = new Map<string, PodStatus[]>();
  readonly events: AgentEvent[] = [];
  readonly nodeStatuses: KubeJson[] = [];
  readonly terminated: string[] = [];

  podStatus(pod: { namespace: string; name: string; uid: string }, status: KubeJson): void {
    const list = this.statuses.get(pod.uid) ?? [];
    list.push(structuredClone(status) as PodStatus);
    this.statuses.set(pod.uid, list);
  }

  nodeStatus(status: KubeJson): void {
    this.nodeStatuses.push(structuredClone(status));
  }

  event(e: AgentEvent): void {
    this.events.push(e);
  }

  podTerminated(pod: { namespace: string; name: string; uid: string }): void {
    this.terminated.push(pod.uid);
  }

  latest(uid: string): PodStatus | undefined {
    return this.statuses.get(uid)?.at(-1);
  }

  reasons(uid: string): string[] {
    return this.events.filter((e) => e.involvedObject.uid === uid).map((e) => e.reason);
  }
}

export function makePod(name: string, nodeName: string, spec: Partial<NonNullable<Pod['spec']>>, meta: Partial<NonNullable<Pod['metadata']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: randomUUID(), labels: { app: name }, ...meta },
    spec: { nodeName, containers: [], terminationGracePeriodSeconds: 5, ...spec },
  };
}

export const podJson = (p: Pod): KubeJson => p as unknown as KubeJson;

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const cond = (s: PodStatus | undefined, type: string): string | undefined => s?.conditions?.find((c) => c.type === type)?.status;
