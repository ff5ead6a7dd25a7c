/**
 * What one DaemonSet sync should do (pkg/controller/daemon: nodeShouldRunDaemonPod, manage,
 * rollingUpdate, updateDaemonSetStatus) as a pure function of the DaemonSet, the nodes and its
 * pods: which nodes need a pod, which pods must go (extra, failed, misscheduled, on vanished
 * nodes, or replaced by the rolling update within maxUnavailable), and the status counts.
 */
import { matchesNodeSelectorAndAffinity } from '../scheduler/node-affinity.ts';
import { untoleratedTaint } from '../taints.ts';
import type { Node, Pod, Toleration } from '../core-types.ts';
import type { KubeObject } from '../types.ts';
import { REVISION_LABEL } from './controller-revisions.ts';
import { creationTime, isPodActive, isPodAvailable, isPodReady, podPhase } from './pods.ts';
import { scaledValue } from './replica-math.ts';

export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/** AddOrUpdateDaemonPodTolerations: daemons keep running through these node conditions. */
export function daemonTolerations(template: { spec?: { tolerations?: Toleration[]; hostNetwork?: boolean } }): Toleration[] {
  const base: Toleration[] = [...(template.spec?.tolerations ?? [])];
  const add = (key: string, effect: string) => {
    if (!base.some((t) => t.key === key && t.operator === 'Exists' && t.effect === effect)) base.push({ key, operator: 'Exists', effect });
  };
  add('node.kubernetes.io/not-ready', 'NoExecute');
  add('node.kubernetes.io/unreachable', 'NoExecute');
  add('node.kubernetes.io/disk-pressure', 'NoSchedule');
  add('node.kubernetes.io/memory-pressure', 'NoSchedule');
  add('node.kubernetes.io/pid-pressure', 'NoSchedule');
  add('node.kubernetes.io/unschedulable', 'NoSchedule');
  if (template.spec?.hostNetwork) add('node.kubernetes.io/network-unavailable', 'NoSchedule');
  return base;
}

export interface NodeFit {
  /** A pod should be created here. */
  shouldRun: boolean;
  /** An existing pod may stay here. */
  shouldContinueRunning: boolean;
}

/**
 * nodeShouldRunDaemonPod: the node must match nodeSelector and required node affinity; an
 * untolerated NoSchedule taint stops new pods, an untolerated NoExecute one evicts existing ones.
 */
export function nodeFit(ds: KubeObject, node: Node): NodeFit {
  const template = ((ds.spec as { template?: Pod } | undefined)?.template ?? {}) as Pod;
  const probe: Pod = { metadata: {}, spec: { ...(template.spec ?? {}), nodeName: node.metadata.name ?? '' } };
  if (!matchesNodeSelectorAndAffinity(probe, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonTolerations(template as { spec?: { tolerations?: Toleration[]; hostNetwork?: boolean } });
  const taints = node.spec?.taints;
  if (untoleratedTaint(taints, tolerations, ['NoExecute'])) return { shouldRun: false, shouldContinueRunning: false };
  if (untoleratedTaint(taints, tolerations, ['NoSchedule'])) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

export interface DaemonSetStatus {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  numberUnavailable: number;
  updatedNumberScheduled: number;
  observedGeneration: number;
}

export interface DaemonSetPlan {
  /** Node names that need a pod. */
  readonly createOn: string[];
  readonly remove: KubeObject[];
  readonly status: DaemonSetStatus;
}

interface DaemonSpec {
  minReadySeconds?: number;
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: unknown; maxSurge?: unknown } };
}

/** A node's daemon pods once extras are gone: at most one at the current hash and one older. */
interface NodePods {
  newPod?: KubeObject;
  oldPod?: KubeObject;
}

const nodeOf = (p: KubeObject): string => (p.spec as { nodeName?: string } | undefined)?.nodeName ?? '';

export function planDaemonSet(ds: KubeObject, nodes: readonly Node[], pods: readonly KubeObject[], hash: string, now: number): DaemonSetPlan {
  const spec = (ds.spec ?? {}) as DaemonSpec;
  const minReady = spec.minReadySeconds ?? 0;
  const byNode = new Map<string, KubeObject[]>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const list = byNode.get(nodeOf(p)) ?? [];
    list.push(p);
    byNode.set(nodeOf(p), list);
  }
  const createOn: string[] = [];
  const remove: KubeObject[] = [];
  const status: DaemonSetStatus = {
    desiredNumberScheduled: 0,
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
    updatedNumberScheduled: 0,
    observedGeneration: ds.metadata.generation ?? 0,
  };
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const surging = rolling && scaledValue(spec.updateStrategy?.rollingUpdate?.maxSurge ?? 0, 1, true) > 0;
  /** The pod that counts on each node where one should run (after removing failed and extra ones). */
  const kept = new Map<string, KubeObject>();
  const pairs = new Map<string, NodePods>();
  const known = new Set<string>();
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    known.add(name);
    const fit = nodeFit(ds, node);
    const here = byNode.get(name) ?? [];
    if (fit.shouldRun) status.desiredNumberScheduled++;
    const running = here.filter(isPodActive);
    if (fit.shouldRun || fit.shouldContinueRunning) {
      // Failed daemon pods are deleted so a fresh one replaces them (upstream kills them too).
      remove.push(...here.filter((p) => podPhase(p) === 'Failed'));
      if (running.length === 0) {
        if (fit.shouldRun) createOn.push(name);
        continue;
      }
      const byAge = [...running].sort((a, b) => creationTime(a) - creationTime(b));
      const pair: NodePods = {};
      if (surging) {
        // With surge a node may hold the oldest current pod and the oldest older one; more go.
        for (const p of byAge) {
          const slot = p.metadata.labels?.[REVISION_LABEL] === hash ? 'newPod' : 'oldPod';
          if (pair[slot]) remove.push(p);
          else pair[slot] = p;
        }
      } else {
        // More than one: keep the oldest, as upstream does.
        const [oldest, ...extra] = byAge;
        remove.push(...extra);
        pair[oldest?.metadata.labels?.[REVISION_LABEL] === hash ? 'newPod' : 'oldPod'] = oldest;
      }
      if (!fit.shouldRun) {
        status.numberMisscheduled++;
        continue;
      }
      status.currentNumberScheduled++;
      kept.set(name, (pair.newPod ?? pair.oldPod) as KubeObject);
      pairs.set(name, pair);
    } else if (running.length > 0) {
      status.numberMisscheduled++;
      remove.push(...running);
    }
  }
  // Pods bound to nodes that no longer exist.
  for (const [name, list] of byNode) if (!known.has(name)) remove.push(...list);

  for (const p of kept.values()) {
    if (isPodReady(p)) status.numberReady++;
    if (isPodAvailable(p, minReady, now)) status.numberAvailable++;
    if (p.metadata.labels?.[REVISION_LABEL] === hash) status.updatedNumberScheduled++;
  }
  status.numberUnavailable = Math.max(0, status.desiredNumberScheduled - status.numberAvailable);

  if (surging) {
    const surge = surgeUpdate(spec, pairs, status.desiredNumberScheduled, minReady, now);
    remove.push(...surge.remove);
    createOn.push(...surge.createOn);
  } else if (rolling) remove.push(...rollingUpdateVictims(spec, kept, hash, status.desiredNumberScheduled, minReady, now));
  return { createOn, remove, status };
}

/**
 * rollingUpdate (maxSurge 0): old pods that are not available go at once; available old pods go
 * only while fewer than maxUnavailable (rounded up, of desired) daemon pods are unavailable,
 * counting nodes still waiting for a pod.
 */
function rollingUpdateVictims(spec: DaemonSpec, kept: Map<string, KubeObject>, hash: string, desired: number, minReady: number, now: number): KubeObject[] {
  const maxUnavailable = scaledValue(spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, true);
  let unavailable = desired - [...kept.values()].filter((p) => isPodAvailable(p, minReady, now)).length;
  const victims: KubeObject[] = [];
  const old = [...kept.values()].filter((p) => p.metadata.labels?.[REVISION_LABEL] !== hash);
  for (const p of old) if (!isPodAvailable(p, minReady, now)) victims.push(p);
  for (const p of old.filter((x) => isPodAvailable(x, minReady, now)).sort((a, b) => (nodeOf(a) < nodeOf(b) ? -1 : 1))) {
    if (unavailable >= maxUnavailable) break;
    victims.push(p);
    unavailable++;
  }
  return victims;
}

/**
 * rollingUpdate with maxSurge (rounded up, of desired): a node whose old pod is unavailable gets
 * its new pod at once; otherwise new pods start next to old ones on up to maxSurge nodes at a time,
 * and an old pod goes once the new one beside it is available.
 */
function surgeUpdate(spec: DaemonSpec, pairs: Map<string, NodePods>, desired: number, minReady: number, now: number): { createOn: string[]; remove: KubeObject[] } {
  const maxSurge = scaledValue(spec.updateStrategy?.rollingUpdate?.maxSurge, desired, true);
  const remove: KubeObject[] = [];
  const allowed: string[] = [];
  const candidates: string[] = [];
  let surging = 0;
  for (const [node, { newPod, oldPod }] of [...pairs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!oldPod) continue;
    if (!newPod) {
      if (!isPodAvailable(oldPod, minReady, now)) allowed.push(node);
      else candidates.push(node);
      continue;
    }
    if (!isPodAvailable(newPod, minReady, now)) {
      surging++;
      continue;
    }
    remove.push(oldPod);
  }
  const room = Math.min(Math.max(0, maxSurge - surging), candidates.length);
  return { createOn: [...allowed, ...candidates.slice(0, room)], remove };
}
