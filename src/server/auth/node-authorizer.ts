// The Node authorizer (k8s.io/kubernetes plugin/pkg/auth/authorizer/node) for users
// "system:node:<name>" in group "system:nodes": a node may touch its own Node and Lease, the pods
// bound to it, and only the Secrets/ConfigMaps/ServiceAccounts/PVCs those pods use. Relationships
// are confirmed in the store at request time, so a grant is never stale; which pod to confirm a
// reference with comes from the index of the pods bound to each node that the link's feed hub keeps
// from its watch (node-pod-index.ts; upstream keeps a graph). A refusal waits until that index is
// complete as of the store's revision at the time of the check; only an index that cannot say
// (not listed yet, its watch restarting) makes the check scan the namespace's pods.
// Everything else is "no opinion" and falls through to RBAC.
//
// What this authorizer decides and what the API must still do:
// - nodes: get/update/patch own Node and nodes/status (name = node); list/watch only with
//   fieldSelector metadata.name=<node> (the API applies the selector); create is allowed when the
//   name is empty or the node's own: the API must check the body's metadata.name equals the node
//   name on create (upstream NodeRestriction admission).
// - pods: get, delete, and update/patch of pods/status only for pods whose spec.nodeName is the
//   node; list/watch only with fieldSelector spec.nodeName=<node>, which the API applies.
// - secrets, configmaps, serviceaccounts, persistentvolumeclaims: get (or list/watch pinned with
//   fieldSelector metadata.name=<name>) when a pod bound to the node references it.
// - persistentvolumes: get (or list/watch pinned by name) when bound to a claim that a pod bound
//   to the node references (upstream's pv → pvc → pod → node edges). edgeos adds: get, update and
//   patch of the local volumes whose data the node holds (src/common/local-volumes.ts), since its
//   agent is their provisioner on the node and removes their cleanup finalizer (docs/storage.md).
// - serviceaccounts/token: create for a ServiceAccount a pod bound to the node runs as; the
//   TokenRequest handler checks the token is bound to such a pod (upstream NodeRestriction).
// - leases in kube-node-lease: get/update/patch/delete named <node>; create with an empty or own
//   name (the API checks the body's name on create, as for nodes).
// - services, endpointslices: get/list/watch cluster-wide, what RBAC's system:node and
//   system:node-proxier roles give a kubelet and kube-proxy upstream: every node routes every
//   Service, and the link's node feed sends them all to every agent (docs/services.md).
// - events (core and events.k8s.io): create, patch, update in any namespace.
// - certificatesigningrequests: create; get (or list/watch pinned by metadata.name) of CSRs whose
//   spec.username is the node's user.
import type { Pod } from 'kubernetes-types/core/v1';
import type { Logger } from '../../common/log.ts';
import { localPathNode } from '../../common/local-volumes.ts';
import type { Store } from '../../store/types.ts';
import { storageSegment } from '../registry/index.ts';
import { allow, noOpinion, NO_RULES } from './chain.ts';
import type { ChainLink, Verdict } from './chain.ts';
import { requiredFieldValue } from './field-selector.ts';
import { podReferences } from './pod-references.ts';
import type { PodReferences } from './pod-references.ts';
import type { NodePods } from './node-pod-index.ts';
import type { RequestAttributes, UserInfo } from './types.ts';
import { readStoredJson } from '../storage/read.ts';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** How long a refusal waits for the pod index to catch up with the store before it scans instead. */
const INDEX_WAIT_MS = 2000;

/** Where the API server keeps the objects this authorizer reads: the registry's storage layout. */
export const nodeAuthzKeys = {
  pod: (ns: string, name: string) => `/registry/${storageSegment('', 'pods')}/${ns}/${name}`,
  pods: (ns: string) => `/registry/${storageSegment('', 'pods')}/${ns}/`,
  allPods: () => `/registry/${storageSegment('', 'pods')}/`,
  claim: (ns: string, name: string) => `/registry/${storageSegment('', 'persistentvolumeclaims')}/${ns}/${name}`,
  volume: (name: string) => `/registry/${storageSegment('', 'persistentvolumes')}/${name}`,
  csr: (name: string) => `/registry/${storageSegment('certificates.k8s.io', 'certificatesigningrequests')}/${name}`,
};

/** The user a node acts as: what its client certificate (CN=system:node:<name>, O=system:nodes) authenticates as. */
export function nodeUser(node: string): UserInfo {
  return { name: `${NODE_USER_PREFIX}${node}`, groups: [NODES_GROUP] };
}

/** The node a user acts for, or undefined when the user is not a node identity. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

const noRelationship = (node: string) => noOpinion(`no relationship found between node '${node}' and this object`);

/** The name a request addresses: the path's, or a list/watch pinned by metadata.name. */
function addressedName(a: RequestAttributes): string {
  if (a.name) return a.name;
  if (a.verb === 'list' || a.verb === 'watch') return requiredFieldValue(a.fieldSelector, 'metadata.name') ?? '';
  return '';
}

export interface NodeAuthorizerDeps {
  readonly store: Store;
  readonly log: Logger;
  /** The pods bound to each node (node-pod-index.ts, fed by the link's hub); without it every reference check scans. */
  readonly nodePods?: NodePods;
}

export function createNodeAuthorizer(deps: NodeAuthorizerDeps): ChainLink {
  const { store, log, nodePods } = deps;

  const readJson = <T>(key: string) => readStoredJson<T>(store, log, key);

  async function podIsBound(node: string, ns: string, name: string): Promise<boolean> {
    const pod = await readJson<Pod>(nodeAuthzKeys.pod(ns, name));
    return pod?.spec?.nodeName === node;
  }

  /**
   * Whether a pod of `ns` bound to `node` references the object. An agent asks this for every pod
   * it starts (its service account token), so it is answered from the index's candidates, each
   * confirmed by a point read of that pod: the index may still hold a pod deleted or recreated a
   * moment ago, the store may not. When no candidate is confirmed — a refusal, or a pod the index
   * has not heard of yet — the check reads the store's current revision R and waits until the
   * index has taken in everything up to R: then every pod bound to the node at R is a candidate,
   * and if none of them is confirmed (each read after R) the answer is no, as of R (after the request
   * arrived), at the cost of the grant. Only an index that cannot say within INDEX_WAIT_MS makes
   * it scan every pod of the namespace (O(pods): what every check cost before the index).
   */
  async function referencedByBoundPod(node: string, ns: string, kind: keyof PodReferences, name: string): Promise<boolean> {
    if (!nodePods) return scanNamespace(node, ns, kind, name);
    const confirm = async (): Promise<boolean> => {
      for (const key of nodePods.candidates(node, ns, kind, name)) {
        const pod = await readJson<Pod>(key);
        if (pod?.spec?.nodeName === node && pod.metadata?.namespace === ns && podReferences(pod)[kind].has(name)) return true;
      }
      return false;
    };
    if (await confirm()) return true;
    if (await nodePods.through(await store.currentRevision(), INDEX_WAIT_MS)) return confirm();
    return scanNamespace(node, ns, kind, name);
  }

  /** The namespace scan. Only pods whose stored JSON names the node are decoded (a serialized pod always holds `"nodeName":"<node>"` exactly; node names need no escaping). */
  async function scanNamespace(node: string, ns: string, kind: keyof PodReferences, name: string): Promise<boolean> {
    const { kvs } = await store.list(nodeAuthzKeys.pods(ns));
    const boundHere = Buffer.from(`"nodeName":${JSON.stringify(node)}`);
    for (const kv of kvs) {
      if (!kv.value.includes(boundHere)) continue;
      let pod: Pod;
      try {
        pod = JSON.parse(kv.value.toString('utf8')) as Pod;
      } catch {
        continue;
      }
      if (pod.spec?.nodeName === node && podReferences(pod)[kind].has(name)) return true;
    }
    return false;
  }

  function authorizeNode(node: string, a: RequestAttributes): Verdict {
    if (a.subresource !== '' && a.subresource !== 'status') return noOpinion(`node '${node}' cannot access nodes/${a.subresource}`);
    const name = addressedName(a);
    switch (a.verb) {
      case 'get':
      case 'list':
      case 'watch':
      case 'update':
      case 'patch':
        if (a.subresource === 'status' && (a.verb === 'list' || a.verb === 'watch')) break;
        return name === node ? allow() : noOpinion(`node '${node}' can only access its own Node object`);
      case 'create':
        if (a.subresource === '' && (name === '' || name === node)) return allow();
        break;
    }
    return noOpinion(`node '${node}' cannot ${a.verb} nodes${a.subresource ? '/' + a.subresource : ''}`);
  }

  async function authorizePod(node: string, a: RequestAttributes): Promise<Verdict> {
    if (a.subresource === '' && (a.verb === 'list' || a.verb === 'watch')) {
      return requiredFieldValue(a.fieldSelector, 'spec.nodeName') === node
        ? allow()
        : noOpinion('can only list/watch pods with spec.nodeName field selector');
    }
    const ok =
      (a.subresource === '' && (a.verb === 'get' || a.verb === 'delete')) ||
      (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch'));
    if (!ok || !a.name || !a.namespace) return noOpinion(`node '${node}' cannot ${a.verb} pods${a.subresource ? '/' + a.subresource : ''}`);
    return (await podIsBound(node, a.namespace, a.name)) ? allow() : noRelationship(node);
  }

  async function authorizeReferenced(node: string, a: RequestAttributes, kind: keyof PodReferences): Promise<Verdict> {
    const name = addressedName(a);
    if (kind === 'serviceaccounts' && a.subresource === 'token') {
      if (a.verb !== 'create' || !name || !a.namespace) return noOpinion(`node '${node}' can only create serviceaccounts/token`);
      return (await referencedByBoundPod(node, a.namespace, kind, name)) ? allow() : noRelationship(node);
    }
    if (a.subresource !== '' || !['get', 'list', 'watch'].includes(a.verb)) {
      return noOpinion(`node '${node}' can only read ${kind}`);
    }
    if (!name || !a.namespace) return noOpinion(`node '${node}' can only read ${kind} by name`);
    return (await referencedByBoundPod(node, a.namespace, kind, name)) ? allow() : noRelationship(node);
  }

  async function authorizeVolume(node: string, a: RequestAttributes): Promise<Verdict> {
    const name = addressedName(a);
    const read = ['get', 'list', 'watch'].includes(a.verb);
    if (a.subresource !== '' || (!read && a.verb !== 'update' && a.verb !== 'patch')) {
      return noOpinion(`node '${node}' cannot ${a.verb} persistentvolumes${a.subresource ? '/' + a.subresource : ''}`);
    }
    if (!name) return noOpinion(`node '${node}' can only access persistentvolumes by name`);
    type Volume = Parameters<typeof localPathNode>[0] & { spec?: { claimRef?: { namespace?: string; name?: string } } };
    const pv = await readJson<Volume>(nodeAuthzKeys.volume(name));
    if (!pv) return noRelationship(node);
    if (localPathNode(pv) === node) return allow();
    if (!read) return noOpinion(`node '${node}' can only update the local volumes it holds`);
    const ref = pv.spec?.claimRef;
    if (!ref?.namespace || !ref.name) return noRelationship(node);
    const claim = await readJson<{ spec?: { volumeName?: string } }>(nodeAuthzKeys.claim(ref.namespace, ref.name));
    if (claim?.spec?.volumeName !== name) return noRelationship(node);
    return (await referencedByBoundPod(node, ref.namespace, 'persistentvolumeclaims', ref.name)) ? allow() : noRelationship(node);
  }

  // Upstream authorizeLease: name unchecked on create (NodeRestriction checks the body).
  function authorizeLease(node: string, a: RequestAttributes): Verdict {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) {
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    }
    if (a.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    if (a.verb === 'create' ? a.name !== '' && a.name !== node : a.name !== node) {
      return noOpinion('can only access node lease with the same name as the requesting node');
    }
    return allow();
  }

  async function authorizeCsr(node: string, user: UserInfo, a: RequestAttributes): Promise<Verdict> {
    if (a.subresource !== '') return noOpinion(`node '${node}' cannot access certificatesigningrequests/${a.subresource}`);
    if (a.verb === 'create') return allow();
    if (!['get', 'list', 'watch'].includes(a.verb)) return noOpinion(`node '${node}' cannot ${a.verb} certificatesigningrequests`);
    const name = addressedName(a);
    if (!name) return noOpinion(`node '${node}' can only read its own certificatesigningrequests by name`);
    const csr = await readJson<{ spec?: { username?: string } }>(nodeAuthzKeys.csr(name));
    return csr?.spec?.username === user.name ? allow() : noRelationship(node);
  }

  return {
    name: 'node',
    // Its decisions depend on the objects asked about, not on rules (upstream says the same).
    async rulesFor(user) {
      if (nodeNameOf(user) === undefined) return NO_RULES;
      return { ...NO_RULES, incomplete: true, errors: ['node authorizer does not support user rule resolution'] };
    },
    async authorize(a) {
      const node = nodeNameOf(a.user);
      if (node === undefined || !a.resourceRequest) return noOpinion();
      const key = `${a.apiGroup}/${a.resource}`;
      switch (key) {
        case '/nodes':
          return authorizeNode(node, a);
        case '/pods':
          return authorizePod(node, a);
        case '/secrets':
        case '/configmaps':
        case '/serviceaccounts':
        case '/persistentvolumeclaims':
          return authorizeReferenced(node, a, a.resource as keyof PodReferences);
        case '/persistentvolumes':
          return authorizeVolume(node, a);
        case 'coordination.k8s.io/leases':
          return authorizeLease(node, a);
        case '/services':
        case 'discovery.k8s.io/endpointslices':
          return a.subresource === '' && ['get', 'list', 'watch'].includes(a.verb) ? allow() : noOpinion(`node '${node}' can only read ${a.resource}`);
        case '/events':
        case 'events.k8s.io/events':
          return a.subresource === '' && ['create', 'patch', 'update'].includes(a.verb)
            ? allow()
            : noOpinion(`node '${node}' can only create, patch or update events`);
        case 'certificates.k8s.io/certificatesigningrequests':
          return authorizeCsr(node, a.user, a);
        default:
          return noOpinion();
      }
    },
  };
}
