/**
 * Service topology (docs/pools.md, "Service topology"): which endpoints of a Service a node gets.
 * The server filters a Service's EndpointSlices per node before they cross the link, so the
 * agent's datapath and DNS see only the close endpoints and a 1,000-endpoint Service costs a pooled
 * node only its pool's share of the bytes.
 *
 * A Service's topology is an ordered list of scopes, the first one with a serving endpoint wins:
 * `node` (endpoints on the node itself), `pool` (endpoints on nodes of the node's NodePool), `*`
 * (every endpoint). It comes from the annotation `service.edgeos.io/topology` (`node`, `pool`,
 * `pool,*`, any order of the three, as OpenYurt's topologyKeys), or else from Kubernetes's
 * `spec.trafficDistribution`: `PreferClose` is `node,pool,*` (kube's "close" with zones replaced
 * by pools), `PreferSameNode` `node,*`, `PreferSameZone` `pool,*`. Without `*` a node may get no
 * endpoint at all: the Service then answers it as one without endpoints (rejected at once).
 *
 * The decision is taken over all the Service's slices together (the pool has endpoints or not,
 * whichever slice holds them); each slice keeps its name and everything but the endpoints the
 * node does not get, so the agent's cache keys and DNS names are those of the real slices.
 *
 * The first part is pure functions; EndpointTopology is the per-node state a feed keeps.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Service } from 'kubernetes-types/core/v1';
import { TRAFFIC_DISTRIBUTIONS, TOPOLOGY_ANNOTATION, parseTopology } from '../../common/pools.ts';
import type { TopologyScope } from '../../common/pools.ts';
import type { KubeObjectJson, ObjectChange } from '../../common/link/protocol.ts';

/** The label the EndpointSlice controller puts on a slice: the name of its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * The Service's scopes, or undefined when every node gets every endpoint. The annotation wins over
 * trafficDistribution; an invalid annotation (the API refuses it, so only an object written
 * before that) filters nothing.
 */
export function topologyOf(svc: Service | undefined): readonly TopologyScope[] | undefined {
  if (!svc) return undefined;
  const annotation = svc.metadata?.annotations?.[TOPOLOGY_ANNOTATION];
  if (annotation !== undefined) {
    const parsed = parseTopology(annotation);
    return 'error' in parsed || parsed[0] === '*' ? undefined : parsed;
  }
  const td = (svc.spec as { trafficDistribution?: string } | undefined)?.trafficDistribution;
  return td ? TRAFFIC_DISTRIBUTIONS[td] : undefined;
}

/** Where the filtering node is, and where the other nodes are. */
export interface NodePlace {
  readonly node: string;
  /** The node's NodePool; undefined when it is in none. */
  readonly pool: string | undefined;
  /** The pool of a node named by an endpoint (undefined: in no pool, or unknown). */
  poolOf(node: string): string | undefined;
}

type Endpoint = EndpointSlice['endpoints'][number];

/** An endpoint that can take traffic now or as the agent's fallback (serving while terminating). */
function serving(ep: Endpoint, publishNotReady: boolean): boolean {
  const c = ep.conditions ?? {};
  return publishNotReady || (c.serving ?? c.ready) !== false;
}

function inScope(scope: TopologyScope, ep: Endpoint, here: NodePlace): boolean {
  if (scope === '*') return true;
  if (!ep.nodeName) return false;
  if (scope === 'node') return ep.nodeName === here.node;
  return here.pool !== undefined && here.poolOf(ep.nodeName) === here.pool;
}

/**
 * The slices `here` gets of a Service with these scopes: the endpoints of the first scope that
 * has a serving endpoint in any slice, or of the last scope when none has (a pool whose endpoints
 * are all starting still gets them, not another pool's), serving or not, so readiness works on
 * the agent as usual. A node in no
 * pool is not filtered by `pool` (as OpenYurt's filter skips nodes without a pool): nothing would
 * be left for the server's own node or an unpooled device otherwise.
 */
export function filterSlices(scopes: readonly TopologyScope[], svc: Service | undefined, slices: readonly EndpointSlice[], here: NodePlace): EndpointSlice[] {
  const publishNotReady = svc?.spec?.publishNotReadyAddresses === true;
  const effective = scopes.map((s) => (s === 'pool' && here.pool === undefined ? '*' : s));
  const chosen =
    effective.find((scope) => slices.some((sl) => (sl.endpoints ?? []).some((ep) => inScope(scope, ep, here) && serving(ep, publishNotReady)))) ??
    effective[effective.length - 1]!;
  return slices.map((sl) => {
    if (chosen === '*') return sl;
    const endpoints = (sl.endpoints ?? []).filter((ep) => inScope(chosen, ep, here));
    return endpoints.length === (sl.endpoints ?? []).length ? sl : { ...sl, endpoints };
  });
}

// ---- the per-node state behind a feed ----

interface Routed {
  scopes: readonly TopologyScope[];
  svc: Service;
  /** The Service's slices as stored, by name. */
  readonly slices: Map<string, EndpointSlice>;
  /** What the node was last sent of each slice (`sameness`), by name: changes are sent, the same is not. */
  readonly sent: Map<string, string>;
}

/**
 * What decides whether the node needs a slice again: all of it but its resourceVersion, which
 * changes with every write of the slice, also those that move only other pools' endpoints (the
 * agent keys its cache by name and never reads it).
 */
function sameness(slice: EndpointSlice): string {
  const { resourceVersion: _rv, ...meta } = slice.metadata ?? {};
  return JSON.stringify({ ...slice, metadata: meta });
}

const serviceKeyOf = (namespace: string, name: string) => `${namespace}/${name}`;

function sliceService(slice: EndpointSlice | undefined): string | undefined {
  return slice?.metadata?.labels?.[SERVICE_NAME_LABEL] || undefined;
}

const sliceChange = (namespace: string, name: string, object?: EndpointSlice): ObjectChange =>
  object ? { kind: 'EndpointSlice', namespace, name, object: object as unknown as KubeObjectJson } : { kind: 'EndpointSlice', namespace, name };

// The feed's objects are JSON; these are the shapes they have.
const asSlice = (o: KubeObjectJson | undefined) => o as unknown as EndpointSlice | undefined;
const asService = (o: KubeObjectJson | undefined) => o as unknown as Service | undefined;

/**
 * What one node has been sent of the Services with a topology, kept so that any change that can
 * move an endpoint in or out of the node's view — a slice, the Service's scopes, the node's pool,
 * another node's pool — re-sends exactly the slices whose filtered form changed. Slices of Services
 * without a topology pass through untouched and are not kept.
 */
export class EndpointTopology {
  private readonly routed = new Map<string, Routed>();
  private readonly place: NodePlace;

  constructor(place: NodePlace) {
    this.place = place;
  }

  /** Whether any Service filters (so other nodes' pools matter to this node). */
  get active(): boolean {
    return this.routed.size > 0;
  }

  /**
   * Starts over from a list of the Services and slices (a snapshot or a resume point); returns the
   * slices as the node gets them, and records them as sent.
   */
  load(services: readonly KubeObjectJson[], slices: readonly KubeObjectJson[]): KubeObjectJson[] {
    this.routed.clear();
    for (const svc of services.map((o) => asService(o)!)) {
      const scopes = topologyOf(svc);
      if (scopes) this.routed.set(serviceKeyOf(svc.metadata?.namespace ?? '', svc.metadata?.name ?? ''), { scopes, svc, slices: new Map(), sent: new Map() });
    }
    const out: KubeObjectJson[] = [];
    for (const o of slices) {
      const sl = asSlice(o)!;
      const r = this.routedOf(sl);
      if (r) r.slices.set(sl.metadata?.name ?? '', sl);
      else out.push(o);
    }
    for (const [key, r] of this.routed) {
      for (const c of this.refilter(key, r)) if (c.object) out.push(c.object);
    }
    return out;
  }

  /**
   * A slice was written (or deleted: `slice` undefined, `last` its last value). Returns what the
   * node gets: the slice as it is, or the filtered slices of its Service that changed.
   */
  slice(namespace: string, name: string, object: KubeObjectJson | undefined, lastObject?: KubeObjectJson): ObjectChange[] {
    const slice = asSlice(object);
    const last = asSlice(lastObject);
    const r = this.routedOf(slice ?? last, namespace);
    if (!r) return [sliceChange(namespace, name, slice)];
    if (slice) r.slices.set(name, slice);
    else r.slices.delete(name);
    const key = serviceKeyOf(namespace, sliceService(slice ?? last)!);
    const out = this.refilter(key, r);
    if (!slice) {
      r.sent.delete(name);
      out.push(sliceChange(namespace, name));
    }
    return out;
  }

  /**
   * A Service was written or deleted. When it starts filtering, `readSlices` reads its slices as
   * of this change (the node has them whole until now and gets them filtered); when it stops, the
   * node gets them whole again.
   */
  async service(namespace: string, name: string, object: KubeObjectJson | undefined, readSlices: () => Promise<KubeObjectJson[]>): Promise<ObjectChange[]> {
    const svc = asService(object);
    const key = serviceKeyOf(namespace, name);
    const scopes = topologyOf(svc);
    const r = this.routed.get(key);
    if (!scopes || !svc) {
      if (!r) return [];
      this.routed.delete(key);
      // A deleted Service's slices go with it (garbage collection): nothing to restore.
      return svc ? [...r.slices.values()].map((sl) => sliceChange(namespace, sl.metadata?.name ?? '', sl)) : [];
    }
    if (r) {
      r.scopes = scopes;
      r.svc = svc;
      return this.refilter(key, r);
    }
    const fresh: Routed = { scopes, svc, slices: new Map(), sent: new Map() };
    for (const sl of (await readSlices()).map((o) => asSlice(o)!)) if (sliceService(sl) === name) fresh.slices.set(sl.metadata?.name ?? '', sl);
    this.routed.set(key, fresh);
    return this.refilter(key, fresh);
  }

  /** The node's pool or another node's pool changed: every filtering Service is looked at again. */
  poolsChanged(): ObjectChange[] {
    const out: ObjectChange[] = [];
    for (const [key, r] of this.routed) out.push(...this.refilter(key, r));
    return out;
  }

  /**
   * Forgets what was sent: the next look at each Service sends all its slices (after a resume
   * whose node may hold slices filtered with other pools than those now known).
   */
  forgetSent(): ObjectChange[] {
    for (const r of this.routed.values()) r.sent.clear();
    return this.poolsChanged();
  }

  private routedOf(slice: EndpointSlice | undefined, namespace = slice?.metadata?.namespace ?? ''): Routed | undefined {
    const svc = sliceService(slice);
    return svc === undefined ? undefined : this.routed.get(serviceKeyOf(namespace, svc));
  }

  private refilter(key: string, r: Routed): ObjectChange[] {
    const namespace = key.slice(0, key.indexOf('/'));
    const names = [...r.slices.keys()].sort();
    const filtered = filterSlices(r.scopes, r.svc, names.map((n) => r.slices.get(n)!), this.place);
    const out: ObjectChange[] = [];
    names.forEach((name, i) => {
      const json = sameness(filtered[i]!);
      if (r.sent.get(name) === json) return;
      r.sent.set(name, json);
      out.push(sliceChange(namespace, name, filtered[i]));
    });
    return out;
  }
}
