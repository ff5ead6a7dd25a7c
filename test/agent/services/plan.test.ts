// Which endpoints a Service port gets (src/agent/services/plan.ts), kube-proxy's rules: ready ones,
// terminating-but-serving ones only when none is ready, every one with publishNotReadyAddresses,
// this node's with internalTrafficPolicy Local, and the kubelet's word over a stale slice.
import { describe, expect, it } from 'vitest';
import { createPlanner, planServices } from '../../../src/agent/services/plan.ts';
import type { EndpointSliceJson, LocalPodState, PlanInput, ServiceJson } from '../../../src/agent/services/plan.ts';

const NODE = 'n1';
const svc = (name: string, spec: ServiceJson['spec'] = {}): ServiceJson => ({
  metadata: { namespace: 'shop', name },
  spec: { clusterIP: '10.43.0.50', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
});
type Ep = NonNullable<EndpointSliceJson['endpoints']>[number];
const ep = (ip: string, o: { ready?: boolean; serving?: boolean; terminating?: boolean; node?: string; uid?: string } = {}): Ep => ({
  addresses: [ip],
  conditions: { ready: o.ready ?? true, serving: o.serving ?? o.ready ?? true, terminating: o.terminating ?? false },
  nodeName: o.node ?? NODE,
  ...(o.uid ? { targetRef: { kind: 'Pod', uid: o.uid } } : {}),
});
const slice = (service: string, endpoints: Ep[]): EndpointSliceJson => ({
  metadata: { namespace: 'shop', name: `${service}-abc`, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});
const plan = (services: ServiceJson[], slices: EndpointSliceJson[], localPods = new Map<string, LocalPodState>()) => {
  const input: PlanInput = { services, slices, nodeName: NODE, clusterDns: '10.43.0.10', localPods };
  return planServices(input);
};
const ips = (p: { clusterEndpoints: readonly { ip: string }[] } | undefined) => (p?.clusterEndpoints ?? []).map((e) => e.ip).sort();

describe('Service port plans', () => {
  it('takes the ready endpoints, and the serving terminating ones only when none is ready', () => {
    const mixed = slice('web', [ep('10.42.0.2'), ep('10.42.0.3', { ready: false, serving: false }), ep('10.42.0.4', { ready: false, serving: true, terminating: true })]);
    expect(ips(plan([svc('web')], [mixed])[0])).toEqual(['10.42.0.2']);
    const draining = slice('web', [ep('10.42.0.3', { ready: false, serving: false }), ep('10.42.0.4', { ready: false, serving: true, terminating: true })]);
    expect(ips(plan([svc('web')], [draining])[0])).toEqual(['10.42.0.4']);
    // Nothing usable: an empty plan, which the datapath turns into an ICMP reject.
    expect(ips(plan([svc('web')], [slice('web', [ep('10.42.0.3', { ready: false, serving: false })])])[0])).toEqual([]);
  });

  it('counts not-ready endpoints with publishNotReadyAddresses', () => {
    const s = slice('db', [ep('10.42.0.5', { ready: false, serving: false }), ep('10.42.0.6')]);
    expect(ips(plan([svc('db', { publishNotReadyAddresses: true })], [s])[0])).toEqual(['10.42.0.5', '10.42.0.6']);
  });

  it('keeps cluster traffic on this node with internalTrafficPolicy Local, and external traffic with externalTrafficPolicy Local', () => {
    const s = slice('web', [ep('10.42.0.2'), ep('10.42.1.2', { node: 'n2' })]);
    expect(ips(plan([svc('web')], [s])[0])).toEqual(['10.42.0.2', '10.42.1.2']);
    expect(ips(plan([svc('web', { internalTrafficPolicy: 'Local' })], [s])[0])).toEqual(['10.42.0.2']);
    const [np] = plan([svc('web', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] })], [s]);
    expect(np).toMatchObject({ nodePort: 30080, externalLocal: true });
    expect(np!.localEndpoints.map((e) => e.ip)).toEqual(['10.42.0.2']);
    expect(ips(np)).toEqual(['10.42.0.2', '10.42.1.2']);
  });

  it("believes the kubelet over a stale slice for this node's pods", () => {
    const s = slice('web', [ep('10.42.0.2', { uid: 'u1' }), ep('10.42.0.3', { ready: false, serving: false, uid: 'u2' })]);
    const kubelet = new Map<string, LocalPodState>([['u1', { ready: false, ip: '10.42.0.2' }], ['u2', { ready: true, ip: '10.42.0.3' }]]);
    expect(ips(plan([svc('web')], [s], kubelet)[0])).toEqual(['10.42.0.3']);
  });

  it('plans no virtual IP for headless, ExternalName and the cluster DNS Service; ClientIP affinity defaults to 3 hours', () => {
    const services = [
      svc('headless', { clusterIP: 'None' }),
      svc('ext', { type: 'ExternalName', clusterIP: '' }),
      svc('kube-dns', { clusterIP: '10.43.0.10' }),
      svc('sticky', { sessionAffinity: 'ClientIP' }),
      svc('sticky-1m', { clusterIP: '10.43.0.51', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
    ];
    const plans = plan(services, []);
    expect(plans.map((p) => [p.service, p.affinitySeconds])).toEqual([['shop/sticky', 10800], ['shop/sticky-1m', 60]]);
  });

  it('keeps the plans of unchanged Services, replans what changed, and names the local pods slices point at', () => {
    const planner = createPlanner();
    const web = svc('web');
    const db = svc('db', { clusterIP: '10.43.0.51' });
    const webSlice = slice('web', [ep('10.42.0.2', { uid: 'u1' }), ep('10.42.1.2', { node: 'n2', uid: 'u9' })]);
    const dbSlice = slice('db', [ep('10.42.0.5', { uid: 'u2' })]);
    const kubelet = new Map<string, LocalPodState>([['u1', { ready: true, ip: '10.42.0.2' }], ['u2', { ready: true, ip: '10.42.0.5' }], ['u3', { ready: true, ip: '10.42.0.7' }]]);
    const input = (slices: EndpointSliceJson[]): PlanInput => ({ services: [web, db], slices, nodeName: NODE, clusterDns: '10.43.0.10', localPods: kubelet });
    const first = planner(input([webSlice, dbSlice]));
    // Only this node's endpoints' pods: u9 is on n2, u3 backs no Service.
    expect([...planner.localTargets].sort()).toEqual(['u1', 'u2']);
    const same = planner(input([webSlice, dbSlice]));
    expect(same[0]).toBe(first[0]);
    expect(same[1]).toBe(first[1]);
    // A new slice object for db: db is planned again, web keeps its plan object.
    const dbSlice2 = slice('db', [ep('10.42.0.5', { uid: 'u2' }), ep('10.42.0.6')]);
    const next = planner(input([webSlice, dbSlice2]));
    expect(next[0]).toBe(first[0]);
    expect(next[1]).not.toBe(first[1]);
    expect(ips(next[1])).toEqual(['10.42.0.5', '10.42.0.6']);
    // The kubelet turns u1 unready: web is planned again without it, even with the same slice.
    kubelet.set('u1', { ready: false, ip: '10.42.0.2' });
    const after = planner(input([webSlice, dbSlice2]));
    expect(after[0]).not.toBe(first[0]);
    expect(ips(after[0])).toEqual(['10.42.1.2']);
    expect(after[1]).toBe(next[1]);
    // The same answers as planning from nothing.
    expect(after).toEqual(planServices(input([webSlice, dbSlice2])));
  });
});
