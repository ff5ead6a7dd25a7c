// What both endpoint controllers share: which pods back a Service and on which ports
// (endpointsliceutil.ShouldPodBeInEndpoints, podutil.FindPort), and which Services a pod change
// concerns. Pods are grouped by their resolved port list, since a named targetPort may resolve to
// different numbers on different pods.
import type { Pod } from '../core-types.ts';
import { isTerminal } from '../core-types.ts';
import type { Informer, KubeObject } from '../types.ts';

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec?: { selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string; publishNotReadyAddresses?: boolean };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface PodEndpoint {
  readonly pod: Pod;
  readonly ip: string;
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly ports: EndpointPort[];
}

export interface PortGroup {
  readonly ports: EndpointPort[];
  readonly endpoints: PodEndpoint[];
}

export const isHeadless = (s: Service) => s.spec?.clusterIP === 'None';

export function selects(service: Service, pod: Pod): boolean {
  const sel = service.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The pods backing `service`, grouped by port list. `includeTerminating`: EndpointSlices keep terminating pods. */
export function podEndpoints(service: Service, pods: readonly Pod[], includeTerminating: boolean): PortGroup[] {
  const groups = new Map<string, PortGroup>();
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  for (const pod of pods) {
    if (!selects(service, pod) || isTerminal(pod)) continue;
    const ip = pod.status?.podIP;
    if (!ip) continue;
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    if (terminating && !includeTerminating && !publishNotReady) continue;
    const ports: EndpointPort[] = [];
    for (const sp of service.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      // Upstream skips a port it cannot resolve for this pod and keeps the others.
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    if (ports.length === 0 && (service.spec?.ports ?? []).length > 0) continue;
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    g.endpoints.push({ pod, ip, ready: publishNotReady || (isPodReady(pod) && !terminating), terminating, ports });
  }
  for (const g of groups.values()) g.endpoints.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return [...groups.values()];
}

/** Keys of the Services in the pod's namespace that select it (before or after the change). */
export function servicesFor(services: Informer<Service>, ...versions: Pod[]): string[] {
  const out = new Set<string>();
  for (const pod of versions) {
    const ns = pod.metadata.namespace ?? '';
    for (const s of services.list(ns)) if (selects(s, pod)) out.add(`${ns}/${s.metadata.name ?? ''}`);
  }
  return [...out];
}

export function podReference(pod: Pod): { kind: string; namespace: string; name: string; uid: string } {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}
