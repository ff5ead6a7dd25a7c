/**
 * The built-in resources edgeos serves, with the discovery facts kubectl relies on
 * (kubectl-wire.md §1: verbs, shortNames, categories and subresources must all be present).
 *
 * Storage layout: an object lives at `/registry/<segment>/<namespace>/<name>` when namespaced and
 * `/registry/<segment>/<name>` when cluster-scoped. The segment is the plural for the core and
 * apps groups (as in Kubernetes' etcd layout) and `<plural>.<group>` for every other group, so
 * that e.g. `events` (core) and a CRD `events.example.com` never share a prefix. Object names
 * cannot contain "/", so prefixes ending in "/" never overlap.
 */
import type { GroupVersionKind, ResourceInfo, SubresourceInfo } from './types.ts';

/** apiserver's default --event-ttl: Events delete themselves an hour after their last update. */
const EVENT_TTL_SECONDS = 3600;

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const READ_UPDATE = ['get', 'patch', 'update'] as const;

export function storageSegment(group: string, plural: string): string {
  return group === '' || group === 'apps' ? plural : `${plural}.${group}`;
}

interface Spec {
  group?: string;
  version?: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: readonly string[];
  subresources?: SubresourceInfo[];
  tracksGeneration?: boolean;
  keepStatusOnCreate?: boolean;
  virtual?: boolean;
  storage?: string;
  ttlSeconds?: number;
}

function resource(s: Spec): ResourceInfo {
  const group = s.group ?? '';
  return {
    group,
    version: s.version ?? 'v1',
    kind: s.kind,
    listKind: `${s.kind}List`,
    plural: s.plural,
    singular: s.kind.toLowerCase(),
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    verbs: s.verbs ?? CRUD,
    subresources: s.subresources ?? [],
    storage: s.storage ?? storageSegment(group, s.plural),
    tracksGeneration: s.tracksGeneration ?? false,
    keepStatusOnCreate: s.keepStatusOnCreate ?? false,
    virtual: s.virtual ?? false,
    ...(s.ttlSeconds ? { ttlSeconds: s.ttlSeconds } : {}),
    custom: false,
  };
}

function gvk(group: string, version: string, kind: string): GroupVersionKind {
  return { group, version, kind };
}

function status(group: string, version: string, kind: string): SubresourceInfo {
  return { name: 'status', responseKind: gvk(group, version, kind), verbs: READ_UPDATE };
}

const scale: SubresourceInfo = { name: 'scale', responseKind: gvk('autoscaling', 'v1', 'Scale'), verbs: READ_UPDATE };

const workload = (kind: string, plural: string, shortNames: string[], withScale: boolean): ResourceInfo =>
  resource({
    group: 'apps', kind, plural, namespaced: true, shortNames, categories: ['all'], tracksGeneration: true,
    subresources: withScale ? [status('apps', 'v1', kind), scale] : [status('apps', 'v1', kind)],
  });

export function builtinResources(): ResourceInfo[] {
  return [
    // core/v1
    resource({
      kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: [status('', 'v1', 'Namespace'), { name: 'finalize', responseKind: gvk('', 'v1', 'Namespace'), verbs: ['update'] }],
    }),
    resource({
      kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], keepStatusOnCreate: true,
      subresources: [status('', 'v1', 'Node'), { name: 'proxy', responseKind: gvk('', 'v1', 'NodeProxyOptions'), verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
    }),
    resource({
      kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
      subresources: [
        status('', 'v1', 'Pod'),
        { name: 'binding', responseKind: gvk('', 'v1', 'Binding'), verbs: ['create'] },
        // Drain looks for exactly this entry, with group policy and version v1 (kubectl-wire.md §14).
        { name: 'eviction', responseKind: gvk('policy', 'v1', 'Eviction'), verbs: ['create'] },
        { name: 'log', responseKind: gvk('', 'v1', 'Pod'), verbs: ['get'] },
        { name: 'exec', responseKind: gvk('', 'v1', 'PodExecOptions'), verbs: ['create', 'get'] },
        { name: 'attach', responseKind: gvk('', 'v1', 'PodAttachOptions'), verbs: ['create', 'get'] },
        { name: 'portforward', responseKind: gvk('', 'v1', 'PodPortForwardOptions'), verbs: ['create', 'get'] },
      ],
    }),
    resource({ kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: [status('', 'v1', 'Service')] }),
    resource({ kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'] }),
    resource({ kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] }),
    resource({ kind: 'Secret', plural: 'secrets', namespaced: true }),
    resource({
      kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'],
      subresources: [{ name: 'token', responseKind: gvk('authentication.k8s.io', 'v1', 'TokenRequest'), verbs: ['create'] }],
    }),
    resource({ kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], ttlSeconds: EVENT_TTL_SECONDS }),
    resource({ kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], subresources: [status('', 'v1', 'PersistentVolumeClaim')] }),
    resource({ kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], subresources: [status('', 'v1', 'PersistentVolume')] }),
    resource({ kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'], subresources: [status('', 'v1', 'ResourceQuota')] }),
    resource({ kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'] }),
    // apps/v1
    workload('Deployment', 'deployments', ['deploy'], true),
    workload('ReplicaSet', 'replicasets', ['rs'], true),
    workload('StatefulSet', 'statefulsets', ['sts'], true),
    workload('DaemonSet', 'daemonsets', ['ds'], false),
    resource({ group: 'apps', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true }),
    // batch/v1
    resource({ group: 'batch', kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], tracksGeneration: true, subresources: [status('batch', 'v1', 'Job')] }),
    resource({ group: 'batch', kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], tracksGeneration: true, subresources: [status('batch', 'v1', 'CronJob')] }),
    // autoscaling/v2
    resource({
      group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true,
      shortNames: ['hpa'], categories: ['all'], subresources: [status('autoscaling', 'v2', 'HorizontalPodAutoscaler')],
    }),
    // discovery.k8s.io/v1
    resource({ group: 'discovery.k8s.io', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true }),
    // events.k8s.io/v1: the same objects as core/v1 events, converted at the edge (convert.ts in the API).
    resource({ group: 'events.k8s.io', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], storage: 'events', ttlSeconds: EVENT_TTL_SECONDS }),
    // coordination.k8s.io/v1
    resource({ group: 'coordination.k8s.io', kind: 'Lease', plural: 'leases', namespaced: true }),
    // policy/v1
    resource({
      group: 'policy', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'],
      tracksGeneration: true, subresources: [status('policy', 'v1', 'PodDisruptionBudget')],
    }),
    // networking.k8s.io/v1
    resource({ group: 'networking.k8s.io', kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'], tracksGeneration: true, subresources: [status('networking.k8s.io', 'v1', 'Ingress')] }),
    resource({ group: 'networking.k8s.io', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false }),
    resource({ group: 'networking.k8s.io', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, shortNames: ['netpol'], tracksGeneration: true }),
    // storage / scheduling / node
    resource({ group: 'storage.k8s.io', kind: 'StorageClass', plural: 'storageclasses', namespaced: false, shortNames: ['sc'] }),
    resource({ group: 'scheduling.k8s.io', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'] }),
    resource({ group: 'node.k8s.io', kind: 'RuntimeClass', plural: 'runtimeclasses', namespaced: false }),
    // rbac.authorization.k8s.io/v1
    resource({ group: 'rbac.authorization.k8s.io', kind: 'Role', plural: 'roles', namespaced: true }),
    resource({ group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true }),
    resource({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false }),
    resource({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false }),
    // certificates.k8s.io/v1
    resource({
      group: 'certificates.k8s.io', kind: 'CertificateSigningRequest', plural: 'certificatesigningrequests', namespaced: false, shortNames: ['csr'],
      subresources: [
        status('certificates.k8s.io', 'v1', 'CertificateSigningRequest'),
        { name: 'approval', responseKind: gvk('certificates.k8s.io', 'v1', 'CertificateSigningRequest'), verbs: READ_UPDATE },
      ],
    }),
    // apiextensions.k8s.io/v1
    resource({
      group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false,
      shortNames: ['crd', 'crds'], categories: ['api-extensions'], tracksGeneration: true,
      subresources: [status('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')],
    }),
    // Reviews: computed answers to a question, never stored (`kubectl auth can-i`, `kubectl auth whoami`).
    resource({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: ['create'], virtual: true }),
    resource({ group: 'authorization.k8s.io', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: ['create'], virtual: true }),
    resource({ group: 'authentication.k8s.io', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false, verbs: ['create'], virtual: true }),
    // metrics.k8s.io/v1beta1: computed from what agents report, never stored (kubectl-wire.md §13).
    resource({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', namespaced: true, verbs: ['get', 'list'], virtual: true }),
    resource({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', namespaced: false, verbs: ['get', 'list'], virtual: true }),
  ];
}
