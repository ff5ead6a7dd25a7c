/**
 * The apps.edgeos.io/v1 API — NodePool and PoolSet — as TypeScript types. scripts/gen-openapi.ts
 * reads this file as it reads kubernetes-types, so these doc comments are the OpenAPI descriptions
 * `kubectl explain nodepool.spec` prints, and the field types are what typed decoding checks. Field
 * names follow OpenYurt's apps.openyurt.io/v1beta1 NodePool and YurtAppSet where they mean the
 * same thing (docs/pools.md maps them). Integers are int32 except observedGeneration (int64).
 */
import type { JSON as AnyJson } from 'kubernetes-types/apiextensions/v1';
import type { DeploymentSpec, StatefulSetSpec } from 'kubernetes-types/apps/v1';
import type { EnvVarSource, Taint } from 'kubernetes-types/core/v1';
import type { LabelSelector, ListMeta, ObjectMeta, Time } from 'kubernetes-types/meta/v1';

/** NodePool is a site of nodes managed as one: a factory, a shop, a CDN region. A node joins the pool named by its label apps.edgeos.io/pool (set by `edgeos join --pool <name>` or `kubectl label node`), so a node is in at most one pool. */
export interface NodePool {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: 'apps.edgeos.io/v1';
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: 'NodePool';
  /** Standard object's metadata. The name is the value member nodes carry in their apps.edgeos.io/pool label, so it is a DNS-1123 label (at most 63 characters). */
  metadata?: ObjectMeta;
  /** What the pool's nodes are given. */
  spec?: NodePoolSpec;
  /** The pool's members and their readiness, written by the node pool controller. */
  readonly status?: NodePoolStatus;
}

/** NodePoolList is a list of NodePools. */
export interface NodePoolList {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: 'apps.edgeos.io/v1';
  /** The node pools. */
  items: Array<NodePool>;
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: 'NodePoolList';
  /** Standard list metadata. */
  metadata?: ListMeta;
}

/** NodePoolSpec is what every member node of the pool is given and kept in sync with. */
export interface NodePoolSpec {
  /** The kind of site: Edge (the default) or Cloud. Nodes of an Edge pool keep their pods when they lose the server, however long; nodes of a Cloud pool behave as Kubernetes nodes do: 5 minutes after one becomes unreachable its pods are evicted (a node's own edgeos.io/evict-after annotation wins). A pool whose nodes are all unreachable at once is cut off, not failed: none of its pods is evicted, whatever its type. */
  type?: string;
  /** Labels put on every member node and kept there; a key removed here is removed from the nodes, and a node leaving the pool loses them. They overwrite labels of the same key set otherwise. apps.edgeos.io/pool itself cannot be set here: membership is the node's label. */
  labels?: { [name: string]: string };
  /** Annotations put on every member node and kept there, the way labels are. */
  annotations?: { [name: string]: string };
  /** Taints put on every member node and kept there (one per key and effect); a node leaving the pool loses them. */
  taints?: Array<Taint>;
}

/** NodePoolStatus is the pool's membership as the node pool controller last saw it. */
export interface NodePoolStatus {
  /** Member nodes whose Ready condition is True. */
  readyNodeNum?: number;
  /** Member nodes whose Ready condition is False or Unknown, or not reported yet. */
  unreadyNodeNum?: number;
  /** Names of the member nodes, sorted. */
  nodes?: Array<string>;
}

/** PoolSet runs one workload per node pool from one template: a Deployment or a StatefulSet per pool, pinned to that pool's nodes, with per-pool tweaks (replicas, images, env, JSON patches), and rolls template changes out pool by pool: canary pools first, then a few pools at a time, halting on a pool that does not become ready. */
export interface PoolSet {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: 'apps.edgeos.io/v1';
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: 'PoolSet';
  /** Standard object's metadata. Each pool's workload is named <poolset>-<pool> in the PoolSet's namespace. */
  metadata?: ObjectMeta;
  /** The workload, the pools it runs in and how changes roll out. */
  spec?: PoolSetSpec;
  /** The workloads per pool and the rollout's progress, written by the PoolSet controller. */
  readonly status?: PoolSetStatus;
}

/** PoolSetList is a list of PoolSets. */
export interface PoolSetList {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: 'apps.edgeos.io/v1';
  /** The pool sets. */
  items: Array<PoolSet>;
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: 'PoolSetList';
  /** Standard list metadata. */
  metadata?: ListMeta;
}

/** PoolSetSpec is the workload, where it runs and how its changes roll out. */
export interface PoolSetSpec {
  /** The template of every pool's workload and the tweaks of some pools. */
  workload: PoolSetWorkload;
  /** Node pools to run in, by name. A name with no NodePool is reported in the PoolFound condition. Together with nodepoolSelector: the union of both. */
  pools?: Array<string>;
  /** Node pools to run in, by the NodePools' labels. Together with pools: the union of both. */
  nodepoolSelector?: LabelSelector;
  /** Pools that take a template change first: no other pool is updated until every canary pool runs the new template and is ready. */
  canaryPools?: Array<string>;
  /** How many pools may be updating at once (their workload rolling to the new template, not ready yet). Defaults to 1. */
  maxConcurrentPools?: number;
  /** Seconds a pool may take to become ready after its workload was updated. A pool that takes longer halts the rollout (condition Progressing=False, reason ProgressDeadlineExceeded, and a Warning Event) until the template changes again or the PoolSet is paused and resumed. Defaults to 600. */
  progressDeadlineSeconds?: number;
  /** No pool starts updating while paused (pools already updating go on). Pausing also clears a halted rollout: it resumes when unpaused. */
  paused?: boolean;
}

/** PoolSetWorkload is the template of the pools' workloads and the tweaks some pools get. */
export interface PoolSetWorkload {
  /** The workload each pool runs: exactly one of deploymentTemplate and statefulSetTemplate. */
  workloadTemplate: WorkloadTemplate;
  /** Changes to the template for some pools, applied in order (a later tweak wins over an earlier one). */
  workloadTweaks?: Array<WorkloadTweak>;
}

/** WorkloadTemplate holds exactly one of its members. */
export interface WorkloadTemplate {
  /** A Deployment per pool. */
  deploymentTemplate?: DeploymentTemplate;
  /** A StatefulSet per pool. */
  statefulSetTemplate?: StatefulSetTemplate;
}

/** DeploymentTemplate is a Deployment without a name: each pool's copy is named <poolset>-<pool>. */
export interface DeploymentTemplate {
  /** Labels and annotations of each pool's Deployment. */
  metadata?: ObjectMeta;
  /** The Deployment's spec. Each pool's copy selects and labels its pods with apps.edgeos.io/pool=<pool> besides the selector given here, and its pods get that label as a nodeSelector, which keeps them on the pool's nodes. */
  spec: DeploymentSpec;
}

/** StatefulSetTemplate is a StatefulSet without a name: each pool's copy is named <poolset>-<pool>. */
export interface StatefulSetTemplate {
  /** Labels and annotations of each pool's StatefulSet. */
  metadata?: ObjectMeta;
  /** The StatefulSet's spec, pinned to each pool as a Deployment template is. */
  spec: StatefulSetSpec;
}

/** WorkloadTweak changes the workload of the pools it names or selects. */
export interface WorkloadTweak {
  /** Pools this tweak applies to, by name. */
  pools?: Array<string>;
  /** Pools this tweak applies to, by the NodePools' labels. */
  nodepoolSelector?: LabelSelector;
  /** The changes. */
  tweaks: Tweaks;
}

/** Tweaks are applied in this order: replicas, containerImages, env, patches. */
export interface Tweaks {
  /** The workload's replicas in these pools. */
  replicas?: number;
  /** Images of named containers (or init containers) in these pools. */
  containerImages?: Array<ContainerImage>;
  /** Environment variables set (added, or replaced by name) in these pools. */
  env?: Array<EnvTweak>;
  /** RFC 6902 JSON Patch operations on the workload object (paths such as /spec/template/spec/containers/0/resources). A patch that does not apply to the template is refused when the PoolSet is written, naming the patch. */
  patches?: Array<JsonPatchOperation>;
}

/** ContainerImage sets the image of one container. */
export interface ContainerImage {
  /** The container's name in the template. */
  name: string;
  /** The image it runs in these pools. */
  targetImage: string;
}

/** EnvTweak sets one environment variable. */
export interface EnvTweak {
  /** The container to set it in; every container of the template when empty. */
  containerName?: string;
  /** Name of the environment variable. */
  name: string;
  /** Its value. */
  value?: string;
  /** Where its value comes from, as a container's env[].valueFrom. */
  valueFrom?: EnvVarSource;
}

/** JsonPatchOperation is one RFC 6902 operation. */
export interface JsonPatchOperation {
  /** add, remove, replace, move, copy or test. */
  op: string;
  /** A JSON Pointer (RFC 6901) into the workload object. */
  path: string;
  /** The source pointer of move and copy. */
  from?: string;
  /** The value of add, replace and test. */
  value?: AnyJson;
}

/** PoolSetStatus is what the PoolSet controller last observed. */
export interface PoolSetStatus {
  /** The generation of the PoolSet this status describes. */
  observedGeneration?: number;
  /** A hash of the workload (template and tweaks) being rolled out. */
  updateRevision?: string;
  /** Pools with a workload. */
  totalWorkloads?: number;
  /** Pools whose workload has all its replicas ready. */
  readyWorkloads?: number;
  /** Pools whose workload was written from the current template and tweaks and has rolled out: every replica updated and ready, no old one left. */
  updatedWorkloads?: number;
  /** One entry per pool with a workload. */
  pools?: Array<PoolWorkloadStatus>;
  /** Ready, Progressing, PoolFound and WorkloadFailure. */
  conditions?: Array<PoolSetCondition>;
}

/** PoolWorkloadStatus is one pool's workload. */
export interface PoolWorkloadStatus {
  /** The node pool. */
  name: string;
  /** The workload's name. */
  workload?: string;
  /** A hash of the workload last written for this pool: the template with this pool's tweaks. */
  revision?: string;
  /** The workload's desired replicas. */
  replicas?: number;
  /** Replicas that are ready. */
  readyReplicas?: number;
  /** Replicas that run the workload's current template. */
  updatedReplicas?: number;
  /** The workload has had all its replicas updated and ready since it was last written: this pool's part of the rollout is done. */
  rolledOut?: boolean;
}

/** PoolSetCondition describes one aspect of the PoolSet's state. */
export interface PoolSetCondition {
  /** Last time the condition transitioned from one status to another. */
  lastTransitionTime?: Time;
  /** The last time this condition was updated. */
  lastUpdateTime?: Time;
  /** A human readable message indicating details about the transition. */
  message?: string;
  /** The reason for the condition's last transition. */
  reason?: string;
  /** Status of the condition, one of True, False, Unknown. */
  status: string;
  /** Type of the condition: Ready, Progressing, PoolFound or WorkloadFailure. */
  type: string;
}
