/**
 * The field selectors each kind supports, per Kubernetes' field label conversions and GetAttrs
 * (pkg/registry/<group>/<kind>/strategy.go). Every kind supports metadata.name and
 * metadata.namespace.
 */
const COMMON = ['metadata.name', 'metadata.namespace'];

const BY_KIND: Record<string, readonly string[]> = {
  '/Pod': [
    'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
    'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName',
  ],
  '/Event': [
    'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
    'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
    'reason', 'reportingComponent', 'source', 'type',
  ],
  'events.k8s.io/Event': [
    'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'regarding.apiVersion',
    'regarding.resourceVersion', 'regarding.fieldPath', 'reason', 'reportingController', 'type',
  ],
  '/Secret': ['type'],
  '/Node': ['spec.unschedulable'],
  '/Namespace': ['status.phase'],
  '/Service': ['spec.clusterIP', 'spec.type'],
  '/ReplicationController': ['status.replicas'],
  'apps/ReplicaSet': ['status.replicas'],
  'batch/Job': ['status.successful'],
  'certificates.k8s.io/CertificateSigningRequest': ['spec.signerName'],
};

export function supportedFields(group: string, kind: string): ReadonlySet<string> {
  return new Set([...COMMON, ...(BY_KIND[`${group}/${kind}`] ?? [])]);
}

/**
 * Field values that are not plain dotted paths: podIPs matches any entry, and the legacy `source`
 * field of core events is source.component.
 */
export function resolveField(obj: Record<string, unknown>, field: string, plain: (o: Record<string, unknown>, f: string) => string): string {
  if (field === 'source') return plain(obj, 'source.component') || plain(obj, 'reportingComponent');
  if (field === 'status.podIPs') return plain(obj, 'status.podIP');
  if (field === 'spec.unschedulable' || field === 'spec.hostNetwork') return plain(obj, field) || 'false';
  return plain(obj, field);
}
