import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { ContainerResources } from '../../runtime/types.ts';
import { bytes, milliCpu } from './quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const quotaPeriodUs = 100_000;
const minShares = 2;
const minQuotaUs = 1000;

/**
 * The pod's QoS class (pkg/apis/core/v1/helper/qos): BestEffort when no container sets any cpu or
 * memory request or limit; Guaranteed when every container sets cpu and memory limits and its
 * requests (defaulted from limits) equal them; Burstable otherwise.
 */
export function qosClass(pod: Pod): QosClass {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined) {
        guaranteed = false;
        continue;
      }
      const q = req[r] ?? lim[r];
      const eq = r === 'cpu' ? milliCpu(q) === milliCpu(lim[r]) : bytes(q) === bytes(lim[r]);
      if (!eq) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * cgroup settings of one container (kuberuntime's generateLinuxContainerResources): cpu shares from
 * the request (1024 per core, at least 2), CFS quota from the limit over a 100 ms period (at least
 * 1 ms), memory limit in bytes, and the OOM score adjustment of the pod's QoS class.
 */
export function containerResources(pod: Pod, c: Container, memoryCapacityBytes: number): ContainerResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuRequest = milliCpu(req.cpu ?? lim.cpu);
  const cpuLimit = milliCpu(lim.cpu);
  const memLimit = bytes(lim.memory);
  const out: ContainerResources = {
    cpuShares: Math.max(minShares, Math.floor((cpuRequest * 1024) / 1000)),
    oomScoreAdj: oomScoreAdj(pod, c, memoryCapacityBytes),
  };
  if (cpuLimit > 0) {
    out.cpuPeriod = quotaPeriodUs;
    out.cpuQuota = Math.max(minQuotaUs, Math.floor((cpuLimit * quotaPeriodUs) / 1000));
  }
  if (memLimit > 0) out.memoryLimitBytes = memLimit;
  return out;
}

/** pkg/kubelet/qos/policy.go: Guaranteed −997, BestEffort 1000, Burstable 1000 − 1000·request/capacity within [3, 999]. */
function oomScoreAdj(pod: Pod, c: Container, memoryCapacityBytes: number): number {
  const q = qosClass(pod);
  if (q === 'Guaranteed') return -997;
  if (q === 'BestEffort') return 1000;
  const request = bytes(c.resources?.requests?.memory ?? c.resources?.limits?.memory);
  if (!memoryCapacityBytes) return 999;
  const adj = 1000 - Math.floor((1000 * request) / memoryCapacityBytes);
  return Math.min(999, Math.max(3, adj));
}
