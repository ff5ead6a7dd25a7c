/**
 * What the node feed carries and where it lives in the store: pods, the node's Node, the
 * Secrets, ConfigMaps, ServiceAccounts and PersistentVolumeClaims pods reference and the
 * PersistentVolumes those claims are bound to (the Node authorizer's rules), the local volumes
 * whose data a node holds, and the cluster's Services and EndpointSlices (every node routes every
 * Service, as kube-proxy reads them all), trimmed of what only the API's writers use.
 */
import type { KubeObjectJson } from '../../common/link/protocol.ts';
import type { LinkKind } from '../../common/link/protocol.ts';
import { ResourceRegistry } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';

export const REFERENCED: readonly {
  kind: LinkKind;
  plural: string;
  refs: 'secrets' | 'configmaps' | 'serviceaccounts' | 'persistentvolumeclaims';
}[] = [
  { kind: 'Secret', plural: 'secrets', refs: 'secrets' },
  { kind: 'ConfigMap', plural: 'configmaps', refs: 'configmaps' },
  { kind: 'ServiceAccount', plural: 'serviceaccounts', refs: 'serviceaccounts' },
  { kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', refs: 'persistentvolumeclaims' },
];

/** Sent to every node whole: what the Service datapath and the cluster DNS answer from. */
export const CLUSTER_WIDE: readonly { kind: LinkKind; group: string; plural: string }[] = [
  { kind: 'Service', group: '', plural: 'services' },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', plural: 'endpointslices' },
];

/**
 * Services and EndpointSlices cross the link without what only the API's writers use: their
 * managedFields and kubectl's last-applied copy are most of their bytes, and every endpoint
 * change is one of these objects on every link.
 */
export function trimForNode(object: KubeObjectJson): KubeObjectJson {
  const meta = object.metadata as Record<string, unknown> | undefined;
  if (!meta) return object;
  const { managedFields: _m, ...rest } = meta;
  const annotations = rest.annotations as Record<string, string> | undefined;
  if (annotations && 'kubectl.kubernetes.io/last-applied-configuration' in annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _l, ...others } = annotations;
    rest.annotations = others;
  }
  return { ...object, metadata: rest };
}

/** Annotations of a Node that its peers read (the pod network's, docs/podnet.md). */
const PEER_ANNOTATION_PREFIX = 'network.edgeos.io/';
/** Without these two and a pod CIDR a Node is no peer of the pod network (src/agent/podnet/peers.ts). */
const PEER_REQUIRED_ANNOTATIONS = ['network.edgeos.io/vtep-ip', 'network.edgeos.io/vtep-mac'];

/**
 * What a node receives of every other Node: its name, its pod CIDR and the pod network
 * annotations (where its overlay endpoint is), nothing that changes with every status update, so
 * a heartbeat of one node is not a message on every link. A Node the pod network cannot reach —
 * no pod CIDR yet, or no overlay endpoint (an agent without the pod network: no kernel VXLAN, a
 * hollow node of bench/fleet) — is no peer at all: undefined, sent to nobody (its registration
 * was a message on every link, and its pod CIDR assignment another: O(N²) in a join storm of
 * such nodes). It becomes a peer when the last of the three arrives.
 */
export function peerView(object: KubeObjectJson): KubeObjectJson | undefined {
  const meta = (object.metadata ?? {}) as { name?: string; uid?: string; annotations?: Record<string, string> };
  const spec = (object.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
  if (!spec.podCIDR || PEER_REQUIRED_ANNOTATIONS.some((a) => !meta.annotations?.[a])) return undefined;
  const annotations = Object.fromEntries(Object.entries(meta.annotations ?? {}).filter(([k]) => k.startsWith(PEER_ANNOTATION_PREFIX)));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: meta.name, uid: meta.uid, annotations },
    spec: { podCIDR: spec.podCIDR, ...(spec.podCIDRs ? { podCIDRs: spec.podCIDRs } : {}) },
  };
}

export interface FeedKinds {
  readonly pods: ResourceInfo;
  readonly nodes: ResourceInfo;
  readonly volumes: ResourceInfo;
  readonly byKind: Map<LinkKind, ResourceInfo>;
  readonly podsPrefix: string;
  /** A Node's key is this + its name. */
  readonly nodesPrefix: string;
  /** A PersistentVolume's key is this + its name. */
  readonly volumesPrefix: string;
  readonly refPrefixes: readonly { kind: LinkKind; prefix: string }[];
  readonly widePrefixes: readonly { kind: LinkKind; prefix: string }[];
}

export function feedKinds(): FeedKinds {
  const registry = new ResourceRegistry();
  const must = (plural: string, group = '') => {
    const r = registry.resolve(group, 'v1', plural);
    if (!r) throw new Error(`built-in resource ${plural} is missing from the registry`);
    return r;
  };
  const byKind = new Map<LinkKind, ResourceInfo>([
    ['Pod', must('pods')],
    ['Node', must('nodes')],
    ['PersistentVolume', must('persistentvolumes')],
    ...REFERENCED.map((x) => [x.kind, must(x.plural)] as [LinkKind, ResourceInfo]),
    ...CLUSTER_WIDE.map((x) => [x.kind, must(x.plural, x.group)] as [LinkKind, ResourceInfo]),
  ]);
  const prefix = (r: ResourceInfo) => `/registry/${r.storage}/`;
  return {
    pods: must('pods'),
    nodes: must('nodes'),
    volumes: must('persistentvolumes'),
    byKind,
    podsPrefix: prefix(must('pods')),
    nodesPrefix: prefix(must('nodes')),
    volumesPrefix: prefix(must('persistentvolumes')),
    refPrefixes: REFERENCED.map((x) => ({ kind: x.kind, prefix: prefix(byKind.get(x.kind)!) })),
    widePrefixes: CLUSTER_WIDE.map((x) => ({ kind: x.kind, prefix: prefix(byKind.get(x.kind)!) })),
  };
}
