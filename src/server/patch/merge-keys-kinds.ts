/**
 * Per-kind field strategies for the built-in kinds edgeos serves, keyed by "group/Kind" (core group
 * = ""). Sources: k8s.io/api <group>/<version>/types.go struct tags and list markers.
 */
import {
  conditions,
  kind,
  labelSelector,
  objectMeta,
  podSpec,
  podStatus,
  podTemplateSpec,
} from './merge-keys-core.ts';
import { assoc, atomic, map, set, struct, type StructSchema } from './merge-keys.ts';
import type { GroupVersionKind } from './types.ts';

const statusWithConditions = struct({ conditions });

const serviceSpec = struct({
  // +patchMergeKey=port +patchStrategy=merge +listType=map +listMapKey=port +listMapKey=protocol
  ports: assoc('port', struct({}), { keys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } }),
  selector: map(),
  clusterIPs: atomic(),
  externalIPs: atomic(),
  ipFamilies: atomic(),
  loadBalancerSourceRanges: atomic(),
});

const deploymentSpec = struct({
  selector: labelSelector,
  template: podTemplateSpec,
  // +patchStrategy=retainKeys: `strategy` carries $retainKeys from kubectl apply.
  strategy: struct({}),
});

const jobSpec = struct({ selector: labelSelector, template: podTemplateSpec, podFailurePolicy: struct({ rules: atomic() }) });

const nodeSpec = struct({
  // +patchStrategy=merge (set of CIDRs); taints carry no strategy and are replaced whole.
  podCIDRs: set(),
  taints: atomic(),
});

const nodeStatus = struct({
  capacity: map(),
  allocatable: map(),
  conditions,
  // +patchMergeKey=type +patchStrategy=merge, but +listType=atomic for apply (types repeat).
  addresses: assoc('type', struct({}), { applyAtomic: true }),
  images: atomic(),
  volumesInUse: atomic(),
  volumesAttached: atomic(),
});

const policyRules = atomic();

const table: Readonly<Record<string, StructSchema>> = {
  '/Pod': kind({ spec: podSpec, status: podStatus }),
  '/PodTemplate': kind({ template: podTemplateSpec }),
  '/ReplicationController': kind({ spec: struct({ selector: map(), template: podTemplateSpec }), status: statusWithConditions }),
  '/Service': kind({
    spec: serviceSpec,
    status: struct({ conditions, loadBalancer: struct({ ingress: atomic() }) }),
  }),
  '/ConfigMap': kind({ data: map(), binaryData: map() }),
  '/Secret': kind({ data: map(), stringData: map() }),
  '/Namespace': kind({ spec: struct({ finalizers: atomic() }), status: statusWithConditions }),
  '/Node': kind({ spec: nodeSpec, status: nodeStatus }),
  '/ServiceAccount': kind({ secrets: assoc('name', struct({})), imagePullSecrets: atomic() }),
  '/Endpoints': kind({ subsets: atomic() }),
  '/ResourceQuota': kind({ spec: struct({ hard: map(), scopes: atomic() }), status: struct({ hard: map(), used: map() }) }),
  '/LimitRange': kind({ spec: struct({ limits: atomic() }) }),
  '/PersistentVolumeClaim': kind({
    spec: struct({ accessModes: atomic(), selector: labelSelector, resources: struct({ limits: map(), requests: map() }) }),
    status: struct({ conditions, accessModes: atomic(), capacity: map() }),
  }),
  '/PersistentVolume': kind({ spec: struct({ accessModes: atomic(), capacity: map(), mountOptions: atomic() }) }),
  '/Event': kind({}),
  'apps/Deployment': kind({ spec: deploymentSpec, status: statusWithConditions }),
  'apps/ReplicaSet': kind({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: statusWithConditions }),
  'apps/DaemonSet': kind({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: statusWithConditions }),
  'apps/StatefulSet': kind({
    spec: struct({ selector: labelSelector, template: podTemplateSpec, volumeClaimTemplates: atomic() }),
    status: statusWithConditions,
  }),
  'apps/ControllerRevision': kind({}),
  'batch/Job': kind({ spec: jobSpec, status: statusWithConditions }),
  'batch/CronJob': kind({
    spec: struct({ jobTemplate: struct({ metadata: objectMeta, spec: jobSpec }) }),
    status: struct({ active: atomic() }),
  }),
  'rbac.authorization.k8s.io/Role': kind({ rules: policyRules }),
  'rbac.authorization.k8s.io/ClusterRole': kind({
    rules: policyRules,
    aggregationRule: struct({ clusterRoleSelectors: atomic() }),
  }),
  'rbac.authorization.k8s.io/RoleBinding': kind({ subjects: atomic(), roleRef: struct({}, { atomic: true }) }),
  'rbac.authorization.k8s.io/ClusterRoleBinding': kind({ subjects: atomic(), roleRef: struct({}, { atomic: true }) }),
  'policy/PodDisruptionBudget': kind({ spec: struct({ selector: labelSelector }), status: struct({ conditions, disruptedPods: map() }) }),
  'networking.k8s.io/Ingress': kind({ spec: struct({ rules: atomic(), tls: atomic() }) }),
  'networking.k8s.io/NetworkPolicy': kind({ spec: struct({ podSelector: labelSelector, ingress: atomic(), egress: atomic(), policyTypes: atomic() }) }),
  'scheduling.k8s.io/PriorityClass': kind({}),
  'coordination.k8s.io/Lease': kind({}),
  'discovery.k8s.io/EndpointSlice': kind({ endpoints: atomic(), ports: atomic() }),
  'autoscaling/HorizontalPodAutoscaler': kind({ spec: struct({ metrics: atomic() }), status: struct({ conditions: atomic(), currentMetrics: atomic() }) }),
  'storage.k8s.io/StorageClass': kind({ parameters: map(), mountOptions: atomic(), allowedTopologies: atomic() }),
};

// API groups compiled into kube-apiserver: their kinds are Go structs, so SMP is available for all of
// them, described here or not. Every other group is a custom resource.
const builtInGroups = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io',
  'scheduling.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'storage.k8s.io',
  'node.k8s.io', 'certificates.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io',
  'apiregistration.k8s.io', 'flowcontrol.apiserver.k8s.io', 'authentication.k8s.io',
  'authorization.k8s.io', 'resource.k8s.io', 'internal.apiserver.k8s.io', 'storagemigration.k8s.io',
]);

export function isBuiltInKind(gvk: GroupVersionKind): boolean {
  return builtInGroups.has(gvk.group);
}

/** The field strategies of a kind: its table entry, or metadata only for kinds not described. */
export function schemaFor(gvk: GroupVersionKind): StructSchema {
  return table[`${gvk.group}/${gvk.kind}`] ?? kind({});
}
