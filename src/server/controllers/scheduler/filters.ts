// The Filter plugins of kube-scheduler's default profile that apply without volumes, in its order
// (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit). Like
// the framework, a node stops at its first failing plugin; NodeResourcesFit may give several
// reasons. The reason strings are kube-scheduler's, since users grep for them.
import { parseQuantity } from '../../kinds/index.ts';
import type { Node, Pod } from '../core-types.ts';
import { TAINT_UNSCHEDULABLE, toleratesTaint, untoleratedTaint } from '../taints.ts';
import { matchesNodeSelectorAndAffinity } from './node-affinity.ts';
import type { NodeUsage } from './node-usage.ts';
import { portsConflict } from './pod-resources.ts';
import type { HostPort, Requests } from './pod-resources.ts';

export interface Allocatable {
  cpu: number;
  memory: number;
  pods: number;
  scalar: Record<string, number>;
}

const allocCache = new WeakMap<Node, Allocatable>();

function q(v: string | number | undefined): number {
  if (v === undefined) return 0;
  try {
    return parseQuantity(v);
  } catch {
    return 0;
  }
}

/** status.allocatable (capacity when a node reports no allocatable), parsed once per node object. */
export function allocatableOf(node: Node): Allocatable {
  let a = allocCache.get(node);
  if (a) return a;
  const src = node.status?.allocatable ?? node.status?.capacity ?? {};
  a = { cpu: Math.floor(q(src.cpu) * 1000), memory: q(src.memory), pods: q(src.pods), scalar: {} };
  for (const [k, v] of Object.entries(src)) if (k !== 'cpu' && k !== 'memory' && k !== 'pods') a.scalar[k] = q(v);
  allocCache.set(node, a);
  return a;
}

export interface PodDemand {
  readonly pod: Pod;
  readonly requests: Requests;
  readonly ports: readonly HostPort[];
}

/** Why `node` cannot take the pod; empty when it fits. */
export function filterNode(d: PodDemand, node: Node, usage: NodeUsage): string[] {
  const spec = d.pod.spec ?? {};
  if (node.spec?.unschedulable && !toleratesTaint(spec.tolerations, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' })) {
    return ['node(s) were unschedulable'];
  }
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return ["node(s) didn't match the requested node name"];
  const taint = untoleratedTaint(node.spec?.taints, spec.tolerations, ['NoSchedule', 'NoExecute']);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
  if (!matchesNodeSelectorAndAffinity(d.pod, node)) return ["node(s) didn't match Pod's node affinity/selector"];
  if (d.ports.some((p) => usage.ports.some((u) => portsConflict(p, u)))) return ["node(s) didn't have free ports for the requested pod ports"];
  const alloc = allocatableOf(node);
  const reasons: string[] = [];
  if (usage.pods + 1 > alloc.pods) reasons.push('Too many pods');
  const r = d.requests;
  if (r.cpu > 0 && r.cpu > alloc.cpu - usage.cpu) reasons.push('Insufficient cpu');
  if (r.memory > 0 && r.memory > alloc.memory - usage.memory) reasons.push('Insufficient memory');
  for (const [k, v] of Object.entries(r.scalar)) {
    if (v > 0 && v > (alloc.scalar[k] ?? 0) - (usage.scalar[k] ?? 0)) reasons.push(`Insufficient ${k}`);
  }
  return reasons;
}
