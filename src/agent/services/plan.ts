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

function candidates(svc: ServiceJson, slices: readonly EndpointSliceJson[], portName: string, protocol: string, input: PlanInput): Candidate[] {
  const out = new Map<string, Candidate>();
  const allReady = svc.spec?.publishNotReadyAddresses === true;
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      const local = ep.nodeName === input.nodeName;
      const known = local && ep.targetRef?.uid ? input.localPods.get(ep.targetRef.uid) : undefined;
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

export function planServices(input: PlanInput): ServicePortPlan[] {
  const slicesOf = new Map<string, EndpointSliceJson[]>();
  for (const s of input.slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    slicesOf.set(key, [...(slicesOf.get(key) ?? []), s]);
  }
  const plans: ServicePortPlan[] = [];
  for (const svc of input.services) {
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') continue;
    const clusterIP = spec.clusterIP && spec.clusterIP !== 'None' && isIPv4(spec.clusterIP) ? spec.clusterIP : undefined;
    // Headless Services have no virtual IP: DNS answers with the endpoints themselves.
    if (!clusterIP || clusterIP === input.clusterDns) continue;
    const service = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
    const slices = slicesOf.get(service) ?? [];
    const external = [...(spec.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')].filter((ip) => isIPv4(ip));
    const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    for (const p of spec.ports ?? []) {
      const protocol = PROTOCOLS[p.protocol ?? 'TCP'];
      if (!protocol || !p.port) continue;
      const cands = candidates(svc, slices, p.name ?? '', p.protocol ?? 'TCP', input);
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
  }
  return plans;
}

/** The kubelet's view of a pod status: Ready condition and podIP. */
export function localPodState(status: Json): LocalPodState {
  const conditions = Array.isArray(status.conditions) ? (status.conditions as { type?: string; status?: string }[]) : [];
  const ip = typeof status.podIP === 'string' && status.podIP !== '' ? status.podIP : undefined;
  return { ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'), ip };
}
