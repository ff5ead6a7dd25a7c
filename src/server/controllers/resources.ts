// The resources the built-in controllers address: \`ResourceRef\` and the table of the built-in
// kinds they read and write (each the preferred version of its kind descriptor in src/server/kinds).
import { configMap } from '../kinds/config-map.ts';
import { controllerRevision } from '../kinds/controller-revision.ts';
import { cronJob } from '../kinds/cron-job.ts';
import { daemonSet } from '../kinds/daemon-set.ts';
import { deployment } from '../kinds/deployment.ts';
import { podDisruptionBudget } from '../kinds/disruption-budget.ts';
import { endpointSlice } from '../kinds/endpoint-slice.ts';
import { endpoints } from '../kinds/endpoints.ts';
import { event } from '../kinds/event.ts';
import { job } from '../kinds/job.ts';
import { lease } from '../kinds/lease.ts';
import { namespace } from '../kinds/namespace.ts';
import { node } from '../kinds/node.ts';
import { nodePool } from '../kinds/node-pool.ts';
import { persistentVolume, persistentVolumeClaim } from '../kinds/persistent-volume.ts';
import { pod } from '../kinds/pod.ts';
import { poolSet } from '../kinds/pool-set.ts';
import { replicaSet } from '../kinds/replica-set.ts';
import { service } from '../kinds/service.ts';
import { serviceAccount } from '../kinds/service-account.ts';
import { statefulSet } from '../kinds/stateful-set.ts';
import { storageClass } from '../kinds/storage-class.ts';
import type { BuiltinKind } from '../kinds/types.ts';

/**
 * Addresses one resource: `{ group: 'apps', version: 'v1', resource: 'deployments' }`. `namespace`
 * set: that namespace; unset: cluster-scoped resources, or all namespaces for list/watch/informers.
 * `group` is '' for the core group. See `resources` for the ones controllers use.
 */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  /** Lower-case plural, as in the URL. */
  readonly resource: string;
  readonly namespace?: string;
}

/** The preferred version of a built-in kind as a ResourceRef (the kind descriptors of src/server/kinds). */
function refOf(k: BuiltinKind): ResourceRef {
  return { group: k.group, version: k.versions[0] ?? 'v1', resource: k.plural };
}

/** The resources the built-in controllers read and write. */
export const resources = Object.freeze({
  pods: refOf(pod),
  nodes: refOf(node),
  namespaces: refOf(namespace),
  services: refOf(service),
  endpoints: refOf(endpoints),
  events: refOf(event),
  configMaps: refOf(configMap),
  serviceAccounts: refOf(serviceAccount),
  persistentVolumeClaims: refOf(persistentVolumeClaim),
  persistentVolumes: refOf(persistentVolume),
  storageClasses: refOf(storageClass),
  leases: refOf(lease),
  endpointSlices: refOf(endpointSlice),
  replicaSets: refOf(replicaSet),
  deployments: refOf(deployment),
  daemonSets: refOf(daemonSet),
  statefulSets: refOf(statefulSet),
  controllerRevisions: refOf(controllerRevision),
  jobs: refOf(job),
  cronJobs: refOf(cronJob),
  podDisruptionBudgets: refOf(podDisruptionBudget),
  nodePools: refOf(nodePool),
  poolSets: refOf(poolSet),
} satisfies Record<string, ResourceRef>);

/** `ref` narrowed to one namespace. */
export function inNamespace(ref: ResourceRef, namespace: string): ResourceRef {
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace };
}
