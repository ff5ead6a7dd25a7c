// What is already placed on each node: the sum of requests, pod count, host ports and per-owner pod
// counts, from the pods informer plus pods this scheduler has bound but not yet seen bound
// ("assumed", kube-scheduler's cache.AssumePod), so a burst of bindings never overcommits a node.
import { controllerOf } from '../keys.ts';
import type { Pod } from '../core-types.ts';
import { isTerminal } from '../core-types.ts';
import { hostPorts, podRequests } from './pod-resources.ts';
import type { HostPort, Requests } from './pod-resources.ts';

export interface NodeUsage {
  cpu: number;
  memory: number;
  pods: number;
  scalar: Record<string, number>;
  ports: HostPort[];
  /** Controller owner uid → pods of it on this node (for spreading). */
  owners: Map<string, number>;
}

interface Placement {
  node: string;
  requests: Requests;
  ports: HostPort[];
  owner: string | undefined;
}

export class UsageCache {
  readonly #nodes = new Map<string, NodeUsage>();
  readonly #placements = new Map<string, Placement>();
  readonly #assumed = new Set<string>();

  usage(node: string): NodeUsage {
    let u = this.#nodes.get(node);
    if (!u) this.#nodes.set(node, (u = { cpu: 0, memory: 0, pods: 0, scalar: {}, ports: [], owners: new Map() }));
    return u;
  }

  isAssumed(uid: string): boolean {
    return this.#assumed.has(uid);
  }

  /** Account `pod` on `node` before the API confirms the binding. */
  assume(pod: Pod, node: string): void {
    const uid = pod.metadata.uid ?? '';
    this.#assumed.add(uid);
    this.#place(uid, pod, node);
  }

  /** The binding failed: take the assumed pod off its node again. */
  forget(uid: string): void {
    if (this.#assumed.delete(uid)) this.#unplace(uid);
  }

  /** The informer saw `pod` (added or updated). */
  observe(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    const node = pod.spec?.nodeName;
    if (node && !isTerminal(pod)) {
      this.#assumed.delete(uid);
      const cur = this.#placements.get(uid);
      if (cur?.node === node) return;
      this.#unplace(uid);
      this.#place(uid, pod, node);
      return;
    }
    if (!this.#assumed.has(uid)) this.#unplace(uid);
  }

  removed(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    this.#assumed.delete(uid);
    this.#unplace(uid);
  }

  #place(uid: string, pod: Pod, node: string): void {
    const p: Placement = { node, requests: podRequests(pod), ports: hostPorts(pod), owner: controllerOf(pod)?.uid };
    this.#placements.set(uid, p);
    const u = this.usage(node);
    u.cpu += p.requests.cpu;
    u.memory += p.requests.memory;
    u.pods += 1;
    for (const [k, v] of Object.entries(p.requests.scalar)) u.scalar[k] = (u.scalar[k] ?? 0) + v;
    u.ports.push(...p.ports);
    if (p.owner) u.owners.set(p.owner, (u.owners.get(p.owner) ?? 0) + 1);
  }

  #unplace(uid: string): void {
    const p = this.#placements.get(uid);
    if (!p) return;
    this.#placements.delete(uid);
    const u = this.usage(p.node);
    u.cpu -= p.requests.cpu;
    u.memory -= p.requests.memory;
    u.pods -= 1;
    for (const [k, v] of Object.entries(p.requests.scalar)) u.scalar[k] = (u.scalar[k] ?? 0) - v;
    for (const port of p.ports) {
      const i = u.ports.findIndex((x) => x.port === port.port && x.protocol === port.protocol && x.hostIP === port.hostIP);
      if (i >= 0) u.ports.splice(i, 1);
    }
    if (p.owner) {
      const n = (u.owners.get(p.owner) ?? 1) - 1;
      if (n <= 0) u.owners.delete(p.owner);
      else u.owners.set(p.owner, n);
    }
  }
}
