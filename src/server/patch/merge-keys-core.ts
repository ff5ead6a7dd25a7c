/**
 * Field strategies of the shared building blocks in k8s.io/apimachinery meta/v1 and k8s.io/api
 * core/v1 (types.go `patchStrategy`/`patchMergeKey` tags and `+listType`/`+listMapKey` markers).
 * Only fields whose behaviour differs from the defaults (objects merge, lists atomic) or that lead
 * to such fields are listed.
 */
import { assoc, atomic, map, set, struct, type StructSchema } from './merge-keys.ts';

const tcp = { protocol: 'TCP' };

export const ownerReference = struct({});

export const objectMeta = struct({
  labels: map(),
  annotations: map(),
  // +patchMergeKey=uid +patchStrategy=merge +listType=map +listMapKey=uid
  ownerReferences: assoc('uid', ownerReference),
  // +patchStrategy=merge +listType=set
  finalizers: set(),
  managedFields: atomic(),
});

// metav1.LabelSelector is `+structType=atomic` for apply; SMP still merges matchLabels.
export const labelSelector = struct({ matchLabels: map(), matchExpressions: atomic() }, { atomic: true });

/** metav1.Condition and the per-kind condition types: `patchMergeKey:"type"`. */
export const conditions = assoc('type', struct({}));

/** A status whose only merge-keyed list is its conditions. */
export const statusWithConditions = struct({ conditions });

const keySelector = struct({}, { atomic: true });
const envVar = struct({
  valueFrom: struct({ configMapKeyRef: keySelector, secretKeyRef: keySelector, fieldRef: keySelector, resourceFieldRef: keySelector }),
});

const containerPort = struct({});

const resources = struct({
  limits: map(),
  requests: map(),
  // +listType=map +listMapKey=name
  claims: assoc('name', struct({})),
});

export const container = struct({
  command: atomic(),
  args: atomic(),
  // +patchMergeKey=containerPort +patchStrategy=merge +listType=map +listMapKey=containerPort +listMapKey=protocol
  ports: assoc('containerPort', containerPort, { keys: ['containerPort', 'protocol'], keyDefaults: tcp }),
  envFrom: atomic(),
  // +patchMergeKey=name +patchStrategy=merge +listType=map +listMapKey=name
  env: assoc('name', envVar),
  resources,
  resizePolicy: atomic(),
  // +patchMergeKey=mountPath +patchStrategy=merge +listType=map +listMapKey=mountPath
  volumeMounts: assoc('mountPath', struct({})),
  // +patchMergeKey=devicePath +patchStrategy=merge +listType=map +listMapKey=devicePath
  volumeDevices: assoc('devicePath', struct({})),
  securityContext: struct({ capabilities: struct({ add: atomic(), drop: atomic() }) }),
});

const volume = struct({
  configMap: struct({ items: atomic() }),
  secret: struct({ items: atomic() }),
  projected: struct({ sources: atomic() }),
  downwardAPI: struct({ items: atomic() }),
});

export const podSpec = struct({
  // +patchMergeKey=name +patchStrategy=merge,retainKeys +listType=map +listMapKey=name (items carry
  // $retainKeys from kubectl apply, honoured wherever it appears)
  volumes: assoc('name', volume),
  initContainers: assoc('name', container),
  containers: assoc('name', container),
  ephemeralContainers: assoc('name', container),
  imagePullSecrets: assoc('name', struct({})),
  nodeSelector: map(),
  // No patch strategy upstream: tolerations and readiness gates are replaced whole.
  tolerations: atomic(),
  readinessGates: atomic(),
  // +patchMergeKey=ip +patchStrategy=merge +listType=map +listMapKey=ip
  hostAliases: assoc('ip', struct({ hostnames: atomic() })),
  // +patchMergeKey=topologyKey +listType=map +listMapKey=topologyKey +listMapKey=whenUnsatisfiable
  topologySpreadConstraints: assoc('topologyKey', struct({ labelSelector, matchLabelKeys: atomic() }), {
    keys: ['topologyKey', 'whenUnsatisfiable'],
  }),
  schedulingGates: assoc('name', struct({})),
  resourceClaims: assoc('name', struct({})),
  overhead: map(),
  securityContext: struct({ supplementalGroups: atomic(), sysctls: atomic() }),
  dnsConfig: struct({ nameservers: atomic(), searches: atomic(), options: atomic() }),
});

export const podStatus = struct({
  conditions,
  // +patchMergeKey=ip +patchStrategy=merge +listType=map +listMapKey=ip
  podIPs: assoc('ip', struct({})),
  hostIPs: assoc('ip', struct({})),
  containerStatuses: atomic(),
  initContainerStatuses: atomic(),
  ephemeralContainerStatuses: atomic(),
  resourceClaimStatuses: assoc('name', struct({})),
});

export const podTemplateSpec = struct({ metadata: objectMeta, spec: podSpec });

/** The root of any kind: metadata plus the given spec/status/other fields. */
export function kind(fields: Record<string, StructSchema | ReturnType<typeof map> | ReturnType<typeof atomic>>): StructSchema {
  return struct({ metadata: objectMeta, ...fields });
}
