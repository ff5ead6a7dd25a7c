// What a pod asks of a node: resource requests as the scheduler computes them
// (resourcehelper.PodRequests: max(sum of containers, each init container) + overhead, with
// restartable init containers — sidecars — added to the sum) and its host ports.
import { parseQuantity } from '../../kinds/index.ts';
import type { Container, Pod } from '../core-types.ts';

export interface Requests {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  /** Other scalar resources (ephemeral-storage, extended resources), in their base unit. */
  scalar: Record<string, number>;
}

/** A quantity's value; 0 when absent or malformed (the API validated it already). */
export function quantity(v: string | number | undefined): number {
  if (v === undefined) return 0;
  try {
    return parseQuantity(v);
  } catch {
    return 0;
  }
}

function add(into: Requests, c: Container | { resources?: { requests?: Record<string, string | number> } }, sign = 1): void {
  for (const [k, v] of Object.entries(c.resources?.requests ?? {})) addOne(into, k, sign * quantity(v));
}

function addOne(into: Requests, k: string, n: number): void {
  if (k === 'cpu') into.cpu += Math.ceil(n * 1000);
  else if (k === 'memory') into.memory += n;
  else into.scalar[k] = (into.scalar[k] ?? 0) + n;
}

function maxInto(into: Requests, other: Requests): void {
  into.cpu = Math.max(into.cpu, other.cpu);
  into.memory = Math.max(into.memory, other.memory);
  for (const [k, v] of Object.entries(other.scalar)) into.scalar[k] = Math.max(into.scalar[k] ?? 0, v);
}

export function podRequests(pod: Pod): Requests {
  const sum: Requests = { cpu: 0, memory: 0, scalar: {} };
  for (const c of pod.spec?.containers ?? []) add(sum, c);
  // Init containers run one at a time before the others; sidecars (restartPolicy Always) keep
  // running, so they add to the app containers and to every init container started after them.
  const sidecars: Requests = { cpu: 0, memory: 0, scalar: {} };
  const initPeak: Requests = { cpu: 0, memory: 0, scalar: {} };
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy === 'Always') {
      add(sum, c);
      add(sidecars, c);
      maxInto(initPeak, sidecars);
      continue;
    }
    const one: Requests = { cpu: sidecars.cpu, memory: sidecars.memory, scalar: { ...sidecars.scalar } };
    add(one, c);
    maxInto(initPeak, one);
  }
  maxInto(sum, initPeak);
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) addOne(sum, k, quantity(v));
  return sum;
}

export interface HostPort {
  protocol: string;
  hostIP: string;
  port: number;
}

export function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ protocol: p.protocol ?? 'TCP', hostIP: p.hostIP || '0.0.0.0', port: p.hostPort });
    }
  }
  return out;
}

/** Two host ports conflict on the same protocol and port when either binds all addresses or both bind the same one. */
export function portsConflict(a: HostPort, b: HostPort): boolean {
  if (a.protocol !== b.protocol || a.port !== b.port) return false;
  return a.hostIP === '0.0.0.0' || b.hostIP === '0.0.0.0' || a.hostIP === b.hostIP;
}
