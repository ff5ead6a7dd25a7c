/**
 * Every built-in kind edgeos serves, one line each. The order is discovery's: groups appear in the
 * order of their first kind here, which decides which group wins when kubectl resolves an ambiguous
 * plural (core `pods` before metrics.k8s.io `pods`).
 */
import { horizontalPodAutoscaler } from './autoscaler.ts';
import { certificateSigningRequest } from './certificate-request.ts';
import { configMap } from './config-map.ts';
import { controllerRevision } from './controller-revision.ts';
import { localSubjectAccessReview, nodeMetrics, podMetrics, selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, subjectAccessReview, tokenReview } from './computed.ts';
import { customResourceDefinition } from './crd.ts';
import { cronJob } from './cron-job.ts';
import { daemonSet } from './daemon-set.ts';
import { deployment } from './deployment.ts';
import { podDisruptionBudget } from './disruption-budget.ts';
import { endpointSlice } from './endpoint-slice.ts';
import { endpoints } from './endpoints.ts';
import { event, eventsV1Event } from './event.ts';
import { job } from './job.ts';
import { lease } from './lease.ts';
import { namespace } from './namespace.ts';
import { ingress, ingressClass, networkPolicy } from './networking.ts';
import { node } from './node.ts';
import { nodePool } from './node-pool.ts';
import { persistentVolume, persistentVolumeClaim } from './persistent-volume.ts';
import { pod } from './pod.ts';
import { poolSet } from './pool-set.ts';
import { limitRange, resourceQuota } from './quota.ts';
import { clusterRole, clusterRoleBinding, role, roleBinding } from './rbac.ts';
import { replicaSet } from './replica-set.ts';
import { priorityClass, runtimeClass } from './scheduling.ts';
import { secret } from './secret.ts';
import { serviceAccount } from './service-account.ts';
import { service } from './service.ts';
import { statefulSet } from './stateful-set.ts';
import { storageClass } from './storage-class.ts';
import type { BuiltinKind } from './types.ts';

export const BUILTIN_KINDS: readonly BuiltinKind[] = [
  // core/v1
  namespace,
  node,
  pod,
  service,
  endpoints,
  configMap,
  secret,
  serviceAccount,
  event,
  persistentVolumeClaim,
  persistentVolume,
  resourceQuota,
  limitRange,
  // apps/v1
  deployment,
  replicaSet,
  statefulSet,
  daemonSet,
  controllerRevision,
  // batch/v1
  job,
  cronJob,
  // autoscaling/v2
  horizontalPodAutoscaler,
  // discovery.k8s.io/v1
  endpointSlice,
  // events.k8s.io/v1
  eventsV1Event,
  // coordination.k8s.io/v1
  lease,
  // policy/v1
  podDisruptionBudget,
  // networking.k8s.io/v1
  ingress,
  ingressClass,
  networkPolicy,
  // storage.k8s.io, scheduling.k8s.io, node.k8s.io
  storageClass,
  priorityClass,
  runtimeClass,
  // rbac.authorization.k8s.io/v1
  role,
  roleBinding,
  clusterRole,
  clusterRoleBinding,
  // certificates.k8s.io/v1
  certificateSigningRequest,
  // apiextensions.k8s.io/v1
  customResourceDefinition,
  // apps.edgeos.io/v1: node pools and one workload per pool (docs/pools.md)
  nodePool,
  poolSet,
  // authorization.k8s.io, authentication.k8s.io: computed reviews
  selfSubjectAccessReview,
  selfSubjectRulesReview,
  subjectAccessReview,
  localSubjectAccessReview,
  selfSubjectReview,
  tokenReview,
  // metrics.k8s.io/v1beta1: computed from what agents report
  podMetrics,
  nodeMetrics,
];

const byGroupKind = new Map(BUILTIN_KINDS.map((k) => [`${k.group}/${k.kind}`, k]));

/** The descriptor of a built-in kind, or undefined (custom resources, kinds edgeos does not serve). */
export function builtinKind(group: string, kind: string): BuiltinKind | undefined {
  return byGroupKind.get(`${group}/${kind}`);
}
