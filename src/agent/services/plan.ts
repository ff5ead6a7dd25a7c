/**
 * Desired state, pure: the cached Services and EndpointSlices (and what the kubelet knows of this
 * node's pods) → one plan per Service port. Which endpoints count follows kube-proxy's topology
 * rules (pkg/proxy/topology.go, endpointslicecache): ready endpoints; if none, the serving ones
 * that are terminating; internalTrafficPolicy/externalTrafficPolicy Local narrow them to this node.
 */
import { isIPv4 } from 'node:net';
import type { EndpointTarget, L4Protocol, ServicePortPlan } from './types.ts';

type Json = Record<string, unknown>;

export interface ServiceJson {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    type?: string;
    clusterIP?: string;
    ports?: { name?: string; port?: number; protocol?: string; nodePort?: number }[];
    externalIPs?: string[];
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: string;
    internalTrafficPolicy?: string;
    publishNotReadyAddresses?: boolean;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export interface EndpointSliceJson {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
    hostname?: string;
    targetRef?: { kind?: string; uid?: string; name?: string; namespace?: string };
  }[];
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

/** What the kubelet on this node says about one of its pods, newer than the cached slices. */
export interface LocalPodState {
  readonly ready: boolean;
  readonly ip: string | undefined;
}

export interface PlanInput {
  readonly services: readonly ServiceJson[];
  readonly slices: readonly EndpointSliceJson[];
  readonly nodeName: string;
  /** The cluster DNS address: a Service on it (kube-dns) is answered on this node, not proxied. */
  readonly clusterDns: string;
  /** By pod uid: the kubelet's own readiness and IP of this node's pods. */
  readonly localPods: ReadonlyMap<string, LocalPodState>;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const PROTOCOLS: Record<string, L4Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

interface Candidate {
  readonly target: EndpointTarget;
  readonly ready: boolean;
  readonly servingTerminating: boolean;
}

/** Ready ones; with none, the serving terminating ones (graceful termination, KEP-1669). */
function usable(cands: readonly Candidate[]): EndpointTarget[] {
  const ready = cands.filter((c) => c.ready);
  return (ready.length > 0 ? ready : cands.filter((c) => c.servingTerminating)).map((c) => c.target);
}

/** The kubelet's view of one local pod as a plan used it (`ready`/`ip` undefined: it knew nothing). */
interface Consulted {
  readonly uid: string;
  readonly ready: boolean | undefined;
  readonly ip: string | undefined;
}

function candidates(svc: ServiceJson, slices: readonly EndpointSliceJson[], portName: string, protocol: string, input: PlanInput, consulted: Consulted[]): Candidate[] {
  const out = new Map<string, Candidate>();
  const allReady = svc.spec?.publishNotReadyAddresses === true;
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      const local = ep.nodeName === input.nodeName;
      const uid = local ? ep.targetRef?.uid : undefined;
      const known = uid ? input.localPods.get(uid) : undefined;
      if (uid) consulted.push({ uid, ready: known?.ready, ip: known?.ip });
      const cond = ep.conditions ?? {};
      const ready = allReady || (known ? known.ready : cond.ready !== false);
      const terminating = cond.terminating === true;
      const serving = known ? known.ready : (cond.serving ?? cond.ready) !== false;
      const addresses = known?.ip ? [known.ip] : (ep.addresses ?? []);
      for (const ip of addresses) {
        if (!isIPv4(ip)) continue;
        const target = { ip, port: port.port, local };
        out.set(`${ip}:${port.port}`, { target, ready: ready && !terminating, servingTerminating: serving && terminating });
      }
    }
  }
  return [...out.values()];
}

function affinity(svc: ServiceJson): number | undefined {
  if (svc.spec?.sessionAffinity !== 'ClientIP') return undefined;
  const t = svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  return typeof t === 'number' && t > 0 ? t : 10800;
}

/** Each Service's EndpointSlices, by `<ns>/<name>`. */
function slicesByService(slices: readonly EndpointSliceJson[]): Map<string, EndpointSliceJson[]> {
  const slicesOf = new Map<string, EndpointSliceJson[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = slicesOf.get(key);
    if (list) list.push(s);
    else slicesOf.set(key, [s]);
  }
  return slicesOf;
}

/** One Service's plans, and the local pod states they were made from (pushed onto `consulted`). */
function planService(svc: ServiceJson, slices: readonly EndpointSliceJson[], input: PlanInput, consulted: Consulted[]): ServicePortPlan[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const clusterIP = spec.clusterIP && spec.clusterIP !== 'None' && isIPv4(spec.clusterIP) ? spec.clusterIP : undefined;
  // Headless Services have no virtual IP: DNS answers with the endpoints themselves.
  if (!clusterIP || clusterIP === input.clusterDns) return [];
  const service = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
  const external = [...(spec.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')].filter((ip) => isIPv4(ip));
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const plans: ServicePortPlan[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = PROTOCOLS[p.protocol ?? 'TCP'];
    if (!protocol || !p.port) continue;
    const cands = candidates(svc, slices, p.name ?? '', p.protocol ?? 'TCP', input, consulted);
    const all = usable(cands);
    const local = usable(cands.filter((c) => c.target.local));
    plans.push({
      id: `${service}/${protocol}/${p.name ?? ''}`,
      service,
      protocol,
      clusterIP,
      port: p.port,
      nodePort: nodePorts && p.nodePort ? p.nodePort : undefined,
      externalIPs: [...new Set(external)],
      affinitySeconds: affinity(svc),
      clusterEndpoints: spec.internalTrafficPolicy === 'Local' ? local : all,
      externalLocal: spec.externalTrafficPolicy === 'Local',
      localEndpoints: local,
    });
  }
  return plans;
}

export function planServices(input: PlanInput): ServicePortPlan[] {
  return createPlanner()(input);
}

/** What one Service's plans were made from. */
interface ServiceMemo {
  svc: ServiceJson;
  slices: readonly EndpointSliceJson[];
  consulted: readonly Consulted[];
  plans: readonly ServicePortPlan[];
  /** The planner call that last saw this Service (the others' entries are dropped). */
  seen: number;
}

export interface Planner {
  (input: PlanInput): ServicePortPlan[];
  /**
   * This node's pods that an EndpointSlice names (by uid), as of the last call: only their
   * readiness and IP can change a plan, so another local pod's status needs no sync.
   */
  readonly localTargets: ReadonlySet<string>;
}

const sameSlices = (a: readonly EndpointSliceJson[], b: readonly EndpointSliceJson[]) => a.length === b.length && a.every((s, i) => s === b[i]);
const stillHolds = (consulted: readonly Consulted[], localPods: ReadonlyMap<string, LocalPodState>) =>
  consulted.every((c) => {
    const now = localPods.get(c.uid);
    return now?.ready === c.ready && now?.ip === c.ip;
  });

/**
 * planServices with memory: a Service whose object, EndpointSlices (the cache's objects, compared
 * by identity) and consulted local pod states are those of the last call keeps its plan objects.
 * While pods start, one EndpointSlice changes per link message: each sync then plans one Service,
 * not all of them, and hands the renderer the same plan objects for the rest — no new plans, no
 * strings to compare them by, nothing retained per sync that V8 must promote and later collect.
 */
export function createPlanner(): Planner {
  const memo = new Map<string, ServiceMemo>();
  let context = '';
  let call = 0;
  let localTargets = new Set<string>();
  const plan = (input: PlanInput): ServicePortPlan[] => {
    const ctx = `${input.nodeName} ${input.clusterDns}`;
    if (ctx !== context) {
      memo.clear();
      context = ctx;
    }
    const seen = ++call;
    const slicesOf = slicesByService(input.slices);
    const plans: ServicePortPlan[] = [];
    const targets = new Set<string>();
    for (const svc of input.services) {
      const key = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
      const slices = slicesOf.get(key) ?? [];
      let m = memo.get(key);
      if (!m || m.svc !== svc || !sameSlices(m.slices, slices) || !stillHolds(m.consulted, input.localPods)) {
        const consulted: Consulted[] = [];
        m = { svc, slices, consulted, plans: planService(svc, slices, input, consulted), seen };
        memo.set(key, m);
      }
      m.seen = seen;
      for (const c of m.consulted) targets.add(c.uid);
      for (const p of m.plans) plans.push(p);
    }
    for (const [key, m] of memo) if (m.seen !== seen) memo.delete(key);
    localTargets = targets;
    return plans;
  };
  return Object.defineProperty(plan, 'localTargets', { get: () => localTargets }) as Planner;
}

/** The kubelet's view of a pod status: Ready condition and podIP. */
export function localPodState(status: Json): LocalPodState {
  const conditions = Array.isArray(status.conditions) ? (status.conditions as { type?: string; status?: string }[]) : [];
  const ip = typeof status.podIP === 'string' && status.podIP !== '' ? status.podIP : undefined;
  return { ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'), ip };
}
