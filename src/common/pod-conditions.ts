/**
 * Who owns which pod condition, shared by the agent's kubelet (which conditions it computes, and
 * which it reads from the API's copy of the pod) and the server's link (which conditions a pod
 * status write from a node may name). Upstream: pkg/kubelet/types PodConditionsByKubelet, with
 * PodReadyToStartContainers (on by default since 1.29).
 *
 * Every other type belongs to another component — a readiness gate's condition set by a load
 * balancer controller, DisruptionTarget set by the eviction API — and the kubelet only reads it.
 */
const KUBELET_POD_CONDITIONS: ReadonlySet<string> = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'PodReadyToStartContainers']);

/** Whether the kubelet computes the condition of this type (kubetypes.PodConditionByKubelet). */
export function isKubeletPodCondition(type: string | undefined): boolean {
  return type !== undefined && KUBELET_POD_CONDITIONS.has(type);
}
