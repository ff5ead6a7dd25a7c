/**
 * The per-kind behaviour registry: defaulting, validation and Table columns of the built-in kinds,
 * looked up by API group ("" for core) and kind. Custom resources have no entry; the API layer
 * validates their metadata with validateObjectMeta and prints the generic NAME/AGE table (or the
 * CRD's additionalPrinterColumns).
 */
import { horizontalPodAutoscalerBehavior } from './autoscaler.ts';
import { certificateSigningRequestBehavior } from './certificate-request.ts';
import { configMapBehavior } from './config-map.ts';
import { controllerRevisionBehavior } from './controller-revision.ts';
import { crdBehavior } from './crd.ts';
import { cronJobBehavior } from './cron-job.ts';
import { daemonSetBehavior } from './daemon-set.ts';
import { deploymentBehavior } from './deployment.ts';
import { podDisruptionBudgetBehavior } from './disruption-budget.ts';
import { endpointSliceBehavior } from './endpoint-slice.ts';
import { endpointsBehavior } from './endpoints.ts';
import { eventBehavior } from './event.ts';
import { jobBehavior } from './job.ts';
import { leaseBehavior } from './lease.ts';
import { namespaceBehavior } from './namespace.ts';
import { ingressBehavior, ingressClassBehavior, networkPolicyBehavior } from './networking.ts';
import { nodeBehavior } from './node.ts';
import { persistentVolumeBehavior, persistentVolumeClaimBehavior } from './persistent-volume.ts';
import { podBehavior } from './pod.ts';
import { limitRangeBehavior, resourceQuotaBehavior } from './quota.ts';
import { clusterRoleBindingBehavior, clusterRoleKindBehavior, roleBindingBehavior, roleKindBehavior } from './rbac.ts';
import { replicaSetBehavior } from './replica-set.ts';
import { priorityClassBehavior, runtimeClassBehavior } from './scheduling.ts';
import { secretBehavior } from './secret.ts';
import { serviceAccountBehavior } from './service-account.ts';
import { serviceBehavior } from './service.ts';
import { statefulSetBehavior } from './stateful-set.ts';
import { storageClassBehavior } from './storage-class.ts';
import { validateKubeFinalizers } from './object-meta.ts';
import type { KindBehavior } from './types.ts';

/** Every built-in kind also gets the core finalizer-name rule, as pkg/apis/core/validation.ValidateObjectMeta does. */
function builtin(b: KindBehavior): KindBehavior {
  const validate = b.validate;
  if (!validate) return b;
  return { ...b, validate: (obj, old) => [...validate(obj, old), ...validateKubeFinalizers(obj)] };
}

const ENTRIES: readonly (readonly [string, KindBehavior])[] = [
  ['/Pod', podBehavior],
  ['/Namespace', namespaceBehavior],
  ['/Node', nodeBehavior],
  ['/Service', serviceBehavior],
  ['/Endpoints', endpointsBehavior],
  ['/ConfigMap', configMapBehavior],
  ['/Secret', secretBehavior],
  ['/ServiceAccount', serviceAccountBehavior],
  ['/Event', eventBehavior],
  ['events.k8s.io/Event', eventBehavior],
  ['discovery.k8s.io/EndpointSlice', endpointSliceBehavior],
  ['coordination.k8s.io/Lease', leaseBehavior],
  ['apps/Deployment', deploymentBehavior],
  ['apps/ReplicaSet', replicaSetBehavior],
  ['apps/DaemonSet', daemonSetBehavior],
  ['apps/StatefulSet', statefulSetBehavior],
  ['batch/Job', jobBehavior],
  ['batch/CronJob', cronJobBehavior],
  ['rbac.authorization.k8s.io/Role', roleKindBehavior],
  ['rbac.authorization.k8s.io/ClusterRole', clusterRoleKindBehavior],
  ['rbac.authorization.k8s.io/RoleBinding', roleBindingBehavior],
  ['rbac.authorization.k8s.io/ClusterRoleBinding', clusterRoleBindingBehavior],
  ['apiextensions.k8s.io/CustomResourceDefinition', crdBehavior],
  ['/PersistentVolumeClaim', persistentVolumeClaimBehavior],
  ['/PersistentVolume', persistentVolumeBehavior],
  ['/ResourceQuota', resourceQuotaBehavior],
  ['/LimitRange', limitRangeBehavior],
  ['apps/ControllerRevision', controllerRevisionBehavior],
  ['autoscaling/HorizontalPodAutoscaler', horizontalPodAutoscalerBehavior],
  ['policy/PodDisruptionBudget', podDisruptionBudgetBehavior],
  ['networking.k8s.io/Ingress', ingressBehavior],
  ['networking.k8s.io/IngressClass', ingressClassBehavior],
  ['networking.k8s.io/NetworkPolicy', networkPolicyBehavior],
  ['storage.k8s.io/StorageClass', storageClassBehavior],
  ['scheduling.k8s.io/PriorityClass', priorityClassBehavior],
  ['node.k8s.io/RuntimeClass', runtimeClassBehavior],
  ['certificates.k8s.io/CertificateSigningRequest', certificateSigningRequestBehavior],
];

const BEHAVIORS: ReadonlyMap<string, KindBehavior> = new Map(ENTRIES.map(([key, b]) => [key, builtin(b)]));

/** The behaviour of a built-in kind, or undefined for kinds without one (custom resources). */
export function kindBehavior(group: string, kind: string): KindBehavior | undefined {
  return BEHAVIORS.get(`${group}/${kind}`);
}

export { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
export { generateJobSelector } from './job.ts';
export { parseQuantity, isQuantity } from '../../common/quantity.ts';
export { humanDuration, ageSince } from './age.ts';
export { selectorMatches, formatLabelSelector } from './label-selector.ts';
export { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from './persistent-volume.ts';
export { defaultClassOf, isDefaultClass } from './storage-class.ts';
export type { FieldError, KindBehavior, KubeObject, TableColumn, TableSpec } from './types.ts';
