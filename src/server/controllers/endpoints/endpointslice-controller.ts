// The EndpointSlice controller: discovery.k8s.io/v1 slices for each Service with a selector, one
// group of slices per distinct port list, at most 100 endpoints per slice (the upstream default
// --max-endpoints-per-slice). Endpoints carry ready/serving/terminating conditions, node name and
// zone; terminating pods stay listed as not ready. Slices are labelled with the Service name and
// managed-by endpointslice-controller.k8s.io and owned by the Service, so deleting the Service
// lets the garbage collector remove them. A Service with no endpoints keeps one empty slice, as
// upstream's placeholder.
import { splitKey } from '../keys.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import type { Node, Pod } from '../core-types.ts';
import { NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, Informer, KubeObject } from '../types.ts';
import { isHeadless, podEndpoints, podReference, servicesFor } from './service-pods.ts';
import type { EndpointPort, PodEndpoint, Service } from './service-pods.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const MAX_PER_SLICE = 100;

interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: unknown[];
  ports?: EndpointPort[] | null;
}

interface DesiredSlice {
  addressType: string;
  endpoints: unknown[];
  ports: EndpointPort[];
}

function endpoint(e: PodEndpoint, service: Service, nodes: Informer<Node>): Record<string, unknown> {
  const spec = e.pod.spec ?? {};
  const zone = spec.nodeName ? nodes.get(undefined, spec.nodeName)?.metadata.labels?.['topology.kubernetes.io/zone'] : undefined;
  return {
    addresses: [e.ip],
    conditions: { ready: e.ready, serving: e.ready || (e.terminating && (e.pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)), terminating: e.terminating },
    ...(spec.hostname && spec.subdomain === service.metadata.name ? { hostname: spec.hostname } : {}),
    targetRef: podReference(e.pod),
    ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
    ...(zone ? { zone } : {}),
  };
}

export function desiredSlices(service: Service, pods: readonly Pod[], nodes: Informer<Node>): DesiredSlice[] {
  const out: DesiredSlice[] = [];
  for (const g of podEndpoints(service, pods, true)) {
    for (const family of ['IPv4', 'IPv6']) {
      const eps = g.endpoints.filter((e) => (e.ip.includes(':') ? 'IPv6' : 'IPv4') === family);
      for (let i = 0; i < eps.length; i += MAX_PER_SLICE) {
        out.push({ addressType: family, ports: g.ports, endpoints: eps.slice(i, i + MAX_PER_SLICE).map((e) => endpoint(e, service, nodes)) });
      }
    }
  }
  if (out.length === 0) out.push({ addressType: 'IPv4', endpoints: [], ports: [] });
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function createEndpointSliceController(ctx: ControllerContext): Controller {
  const { client, log } = ctx;
  return controllerFromRun('endpointslice', async (signal, ready) => {
    const services = ctx.informers.informerFor<Service>(resources.services);
    const pods = ctx.informers.informerFor<Pod>(resources.pods);
    const nodes = ctx.informers.informerFor<Node>(resources.nodes);
    const slices = ctx.informers.informerFor<EndpointSlice>(resources.endpointSlices);
    slices.addIndex('managed-service', (s) =>
      s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && s.metadata.labels[SERVICE_NAME_LABEL] ? [`${s.metadata.namespace ?? ''}/${s.metadata.labels[SERVICE_NAME_LABEL]}`] : [],
    );
    const queue = createWorkQueue(log);
    const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const offs = [
      services.addEventHandler({ add: (s) => queue.add(keyOf(s)), update: (_, s) => queue.add(keyOf(s)), delete: (s) => queue.add(keyOf(s)) }),
      pods.addEventHandler({
        add: (p) => servicesFor(services, p).forEach((k) => queue.add(k)),
        update: (o, p) => servicesFor(services, o, p).forEach((k) => queue.add(k)),
        delete: (p) => servicesFor(services, p).forEach((k) => queue.add(k)),
      }),
      // A slice changed or deleted by someone else is put back.
      slices.addEventHandler({
        update: (_, s) => s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && queue.add(`${s.metadata.namespace ?? ''}/${s.metadata.labels[SERVICE_NAME_LABEL] ?? ''}`),
        delete: (s) => s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && queue.add(`${s.metadata.namespace ?? ''}/${s.metadata.labels[SERVICE_NAME_LABEL] ?? ''}`),
      }),
    ];

    // Slices this controller created that the informer may not show yet (kube's endpointSliceTracker):
    // without them a sync right after a create would create a second slice for the same Service.
    const created = new Map<string, EndpointSlice[]>();

    async function sync(key: string): Promise<void> {
      const { namespace = '', name } = splitKey(key);
      const ref = inNamespace(resources.endpointSlices, namespace);
      const cached = slices.byIndex('managed-service', key);
      const pending = (created.get(key) ?? []).filter((p) => !cached.some((c) => c.metadata.uid === p.metadata.uid));
      if (pending.length > 0) created.set(key, pending);
      else created.delete(key);
      const existing = [...cached, ...pending];
      const service = services.get(namespace, name);
      const selector = service?.spec?.selector;
      if (!service || !selector || Object.keys(selector).length === 0) {
        for (const s of existing) {
          await client.delete(ref, s.metadata.name ?? '').catch((err: unknown) => {
            if (!(err instanceof NotFoundError)) throw err;
          });
        }
        return;
      }
      const labels = { ...(service.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY, ...(isHeadless(service) ? { 'service.kubernetes.io/headless': '' } : {}) };
      const owner = { apiVersion: 'v1', kind: 'Service', name, uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
      const want = desiredSlices(service, pods.list(namespace), nodes);
      const unused = [...existing];
      const fresh: DesiredSlice[] = [];
      // Keep a slice whose content is already right; otherwise reuse one of the same address type.
      for (const d of want) {
        const i = unused.findIndex((s) => s.addressType === d.addressType && same(s.ports ?? [], d.ports) && same(s.endpoints ?? [], d.endpoints) && same(s.metadata.labels, labels));
        if (i >= 0) unused.splice(i, 1);
        else fresh.push(d);
      }
      for (const d of fresh) {
        const i = unused.findIndex((s) => s.addressType === d.addressType);
        const body = { addressType: d.addressType, endpoints: d.endpoints, ports: d.ports };
        if (i >= 0) {
          const [s] = unused.splice(i, 1) as [EndpointSlice];
          await client.update(ref, { ...s, metadata: { ...s.metadata, labels, ownerReferences: [owner] }, ...body });
        } else {
          const made = await client.create(ref, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [owner] }, ...body });
          created.set(key, [...(created.get(key) ?? []), made as EndpointSlice]);
        }
      }
      for (const s of unused) {
        const left = (created.get(key) ?? []).filter((p) => p.metadata.uid !== s.metadata.uid);
        if (left.length > 0) created.set(key, left);
        else created.delete(key);
        await client.delete(ref, s.metadata.name ?? '', { preconditions: { uid: s.metadata.uid ?? '' } }).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
      }
    }

    try {
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run(sync, { workers: ctx.options.workers, signal });
    } finally {
      for (const off of offs) off();
    }
  });
}

export const endpointSliceController: ControllerDescriptor = { name: 'endpointslice', create: createEndpointSliceController };
