// What an agent's link messages do on the server: each is one or two requests to the server's own
// API as the node (ApiAs, src/server/in-process-api.ts), so every status update, lease renewal
// and event passes the same Node authorizer, defaulting, validation and managedFields bookkeeping
// as a kubelet's request would, and a link can never do more than its node may. Shapes follow
// the kubelet: pod status as a strategic merge patch (pod-status-patch.ts) and node status as a
// merge patch of the status subresource, Events from source "kubelet", the Lease in
// kube-node-lease renewed by the holder with a microsecond renewTime.
import { arch, platform } from 'node:os';
import type { EventMessage, NodeRegistration } from '../../common/link/protocol.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import { LOCAL_PATH_FINALIZER } from '../../common/local-volumes.ts';
import { podStatusPatch } from './pod-status-patch.ts';
import type { ApiClient, ApiResponse, NodeWrites } from './types.ts';

const LEASE_NS = 'kube-node-lease';
const enc = encodeURIComponent;
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

/** metav1.MicroTime's wire format. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

/** Status message of an error response, for the ack the agent logs. */
function statusMessage(body: unknown, fallback: string): string {
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && m !== '' ? m : fallback;
}

/**
 * Throws unless the status is 2xx, with the API's message: LINK_BUSY when the API could not take
 * the request now (429, 5xx: a store that is unavailable or shutting down, a timeout), which the
 * agent sends again; LINK_REFUSED for an answer about the request itself (404, 409, 422, …), which
 * it drops. A pod's last status or its termination refused as "busy" and dropped would leave the
 * pod Running or Terminating in the API for ever.
 */
function expectOk(r: ApiResponse, what: string): unknown {
  if (r.status >= 200 && r.status < 300) return r.body;
  const code = r.status === 429 || r.status >= 500 ? LinkErrorCode.LINK_BUSY : LinkErrorCode.LINK_REFUSED;
  throw new LinkError(code, `${what}: ${statusMessage(r.body, `HTTP ${r.status}`)}`);
}

/** The Event a kubelet writes for what its agent reported (client-go's recorder, source "kubelet"). */
export function kubeletEvent(node: string, e: EventMessage['event']): { apiVersion: 'v1'; kind: 'Event'; metadata: { name: string; namespace: string } } & Record<string, unknown> {
  const at = new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ns = e.involvedObject.namespace || 'default';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    // client-go's recorder names events <object>.<unix nanoseconds in hex>.
    metadata: { name: `${e.involvedObject.name}.${(BigInt(e.at) * 1_000_000n + BigInt(process.hrtime()[1] % 1_000_000)).toString(16)}`, namespace: ns },
    involvedObject: { apiVersion: 'v1', ...e.involvedObject, namespace: ns },
    reason: e.reason,
    message: e.message,
    type: e.type,
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
    source: { component: 'kubelet', host: node },
    reportingComponent: 'kubelet',
    reportingInstance: node,
  };
}

export function nodeWrites(node: string, api: ApiClient, now: () => Date = () => new Date()): NodeWrites {
  const nodePath = `/api/v1/nodes/${enc(node)}`;
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases/${enc(node)}`;

  /** The agent's own annotations, reconciled on an existing Node (kubelet's reconcileCMADAnnotationWithExistingNode). */
  async function reconcileAnnotations(existing: unknown, wanted: Readonly<Record<string, string>>): Promise<void> {
    const have = (existing as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {};
    const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => have[k] !== v));
    if (Object.keys(changed).length === 0) return;
    expectOk(await api.request('PATCH', nodePath, { metadata: { annotations: changed } }, MERGE), `annotate node ${node}`);
  }

  async function register(reg: NodeRegistration): Promise<'created' | 'exists'> {
    const existing = await api.request('GET', nodePath);
    if (existing.status === 200) {
      if (reg.annotations) await reconcileAnnotations(existing.body, reg.annotations);
      return 'exists';
    }
    if (existing.status !== 404) expectOk(existing, `read node ${node}`);
    const body = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: node,
        ...(reg.annotations ? { annotations: { ...reg.annotations } } : {}),
        // The well-known labels the kubelet sets on registration.
        labels: { 'kubernetes.io/hostname': node, 'kubernetes.io/os': platform(), 'kubernetes.io/arch': GO_ARCH[arch()] ?? arch(), ...reg.labels },
      },
      spec: {
        ...(reg.taints.length > 0 ? { taints: reg.taints } : {}),
        // An agent given --pod-cidr: the node-ipam controller occupies it instead of choosing one.
        ...(reg.podCIDR ? { podCIDR: reg.podCIDR, podCIDRs: [reg.podCIDR] } : {}),
      },
    };
    const r = await api.request('POST', '/api/v1/nodes', body);
    if (r.status === 409) return 'exists';
    expectOk(r, `register node ${node}`);
    return 'created';
  }

  /**
   * The Lease as our last write left it: the next renewal updates it without reading it first (the
   * kubelet's lease controller keeps its latest Lease the same way). Its resourceVersion is the
   * precondition: a Lease changed by anyone else meanwhile answers 409, and is read again.
   */
  let latestLease: { spec?: Record<string, unknown> } | undefined;

  async function renewLease(durationSeconds: number): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const renewTime = microTime(now());
      let lease = latestLease;
      latestLease = undefined;
      if (!lease) {
        const cur = await api.request('GET', leasePath);
        if (cur.status === 404) {
          const r = await api.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases`, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: node, namespace: LEASE_NS },
            spec: { holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime },
          });
          if (r.status === 409) continue;
          latestLease = expectOk(r, `create lease ${LEASE_NS}/${node}`) as typeof latestLease;
          return;
        }
        lease = expectOk(cur, `read lease ${LEASE_NS}/${node}`) as { spec?: Record<string, unknown> };
      }
      const next = { ...lease, spec: { ...(lease.spec ?? {}), holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime } };
      const r = await api.request('PUT', leasePath, next);
      if (r.status === 409 || r.status === 404) continue; // changed or deleted meanwhile: read again
      latestLease = expectOk(r, `renew lease ${LEASE_NS}/${node}`) as typeof latestLease;
      return;
    }
    throw new LinkError(LinkErrorCode.LINK_REFUSED, `renew lease ${LEASE_NS}/${node}: kept conflicting`);
  }

  return {
    register,
    renewLease,
    async podStatus(namespace, name, uid, status) {
      const r = await api.request('PATCH', `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}/status`, podStatusPatch(uid, status), STRATEGIC);
      expectOk(r, `update status of pod ${namespace}/${name}`);
    },
    async podTerminated(namespace, name, uid) {
      const r = await api.request('DELETE', `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
      // Already gone, or the name now belongs to a new pod (uid precondition failed): nothing to do.
      if (r.status === 404 || r.status === 409) return;
      expectOk(r, `delete terminated pod ${namespace}/${name}`);
    },
    async volumeReleased(name) {
      // The external provisioners' finalizer removal: read, drop ours, write back with the
      // resourceVersion read (a concurrent change makes it read again).
      const path = `/api/v1/persistentvolumes/${enc(name)}`;
      for (let attempt = 0; attempt < 3; attempt++) {
        const cur = await api.request('GET', path);
        if (cur.status === 404) return;
        const pv = expectOk(cur, `read persistentvolume ${name}`) as { metadata?: { finalizers?: string[] } };
        const finalizers = pv.metadata?.finalizers ?? [];
        if (!finalizers.includes(LOCAL_PATH_FINALIZER)) return;
        const r = await api.request('PUT', path, { ...pv, metadata: { ...pv.metadata, finalizers: finalizers.filter((f) => f !== LOCAL_PATH_FINALIZER) } });
        if (r.status === 409) continue;
        if (r.status === 404) return;
        expectOk(r, `release persistentvolume ${name}`);
        return;
      }
      throw new LinkError(LinkErrorCode.LINK_REFUSED, `release persistentvolume ${name}: kept conflicting`);
    },
    async nodeStatus(status) {
      const r = await api.request('PATCH', `${nodePath}/status`, { status }, MERGE);
      expectOk(r, `update status of node ${node}`);
    },
    async event(e) {
      const ev = kubeletEvent(node, e);
      const ns = ev.metadata.namespace;
      const r = await api.request('POST', `/api/v1/namespaces/${enc(ns)}/events`, ev);
      expectOk(r, `record event ${e.reason} for ${ns}/${e.involvedObject.name}`);
    },
    async serviceAccountToken(req) {
      // The kubelet's TokenRequest for a projected serviceAccountToken source.
      const r = await api.request('POST', `/api/v1/namespaces/${enc(req.namespace)}/serviceaccounts/${enc(req.serviceAccount)}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: req.audiences.length > 0 ? req.audiences : null,
          expirationSeconds: req.expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: req.pod.name, uid: req.pod.uid },
        },
      });
      const tr = expectOk(r, `request a token of serviceaccount ${req.namespace}/${req.serviceAccount}`) as { status?: { token?: unknown; expirationTimestamp?: unknown } };
      const token = tr.status?.token;
      const expirationTimestamp = tr.status?.expirationTimestamp;
      if (typeof token !== 'string' || token === '' || typeof expirationTimestamp !== 'string') {
        throw new LinkError(LinkErrorCode.LINK_REFUSED, `the TokenRequest of serviceaccount ${req.namespace}/${req.serviceAccount} returned no token`);
      }
      return { token, expirationTimestamp };
    },
  };
}
