// The endpoints controller: core/v1 Endpoints named after each Service with a selector, listing
// ready pods as addresses and unready ones as notReadyAddresses, one subset per distinct port list
// (RepackSubsets). Services without a selector are left to their users; a deleted Service's
// Endpoints are deleted.
import { splitKey } from '../keys.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import type { Pod } from '../core-types.ts';
import { AlreadyExistsError, NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';
import { isHeadless, podEndpoints, podReference, servicesFor } from './service-pods.ts';
import type { PodEndpoint, Service } from './service-pods.ts';

interface Endpoints extends KubeObject {
  subsets?: unknown[];
}

function address(e: PodEndpoint, service: Service): Record<string, unknown> {
  const spec = e.pod.spec ?? {};
  return {
    ip: e.ip,
    // A pod's hostname becomes a DNS name only under the Service that is its subdomain.
    ...(spec.hostname && spec.subdomain === service.metadata.name ? { hostname: spec.hostname } : {}),
    ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
    targetRef: podReference(e.pod),
  };
}

export function desiredSubsets(service: Service, pods: readonly Pod[]): unknown[] {
  const subsets: unknown[] = [];
  for (const g of podEndpoints(service, pods, false)) {
    const addresses = g.endpoints.filter((e) => e.ready).map((e) => address(e, service));
    const notReady = g.endpoints.filter((e) => !e.ready).map((e) => address(e, service));
    subsets.push({
      ...(addresses.length ? { addresses } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    });
  }
  return subsets;
}

export function endpointsLabels(service: Service): Record<string, string> {
  return { ...(service.metadata.labels ?? {}), ...(isHeadless(service) ? { 'service.kubernetes.io/headless': '' } : {}) };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function createEndpointsController(ctx: ControllerContext): Controller {
  const { client, log } = ctx;
  return controllerFromRun('endpoints', async (signal, ready) => {
    const services = ctx.informers.informerFor<Service>(resources.services);
    const pods = ctx.informers.informerFor<Pod>(resources.pods);
    const endpoints = ctx.informers.informerFor<Endpoints>(resources.endpoints);
    const queue = createWorkQueue(log);
    const offs = [
      services.addEventHandler({
        add: (s) => queue.add(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`),
        update: (_, s) => queue.add(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`),
        delete: (s) => queue.add(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`),
      }),
      pods.addEventHandler({
        add: (p) => servicesFor(services, p).forEach((k) => queue.add(k)),
        update: (o, p) => servicesFor(services, o, p).forEach((k) => queue.add(k)),
        delete: (p) => servicesFor(services, p).forEach((k) => queue.add(k)),
      }),
    ];

    async function sync(key: string): Promise<void> {
      const { namespace = '', name } = splitKey(key);
      const ref = inNamespace(resources.endpoints, namespace);
      const service = services.get(namespace, name);
      const current = endpoints.get(namespace, name);
      if (!service) {
        if (current) await client.delete(ref, name).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
        return;
      }
      const selector = service.spec?.selector;
      if (!selector || Object.keys(selector).length === 0) return;
      const subsets = desiredSubsets(service, pods.list(namespace));
      const labels = endpointsLabels(service);
      if (current && same(current.subsets ?? [], subsets) && same(current.metadata.labels ?? {}, labels)) return;
      if (!current) {
        try {
          await client.create(ref, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets });
          return;
        } catch (err) {
          // Created meanwhile (or by the user): update it on the next round.
          if (!(err instanceof AlreadyExistsError)) throw err;
          queue.add(key);
          return;
        }
      }
      await client.update(ref, { ...current, metadata: { ...current.metadata, labels }, subsets });
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

export const endpointsController: ControllerDescriptor = { name: 'endpoints', create: createEndpointsController };
