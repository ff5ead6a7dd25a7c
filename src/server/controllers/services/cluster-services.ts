// The two Services every cluster has, kept as kube-apiserver and K3s keep them:
// - `default/kubernetes` reaches the API server: its Endpoints and EndpointSlice list the address
//   in-cluster clients dial (--advertise-address, else the host's first address) and the API
//   port, which every agent's datapath then routes `https://kubernetes.default.svc` to
//   (kube-apiserver's endpoint reconciler).
// - `kube-system/kube-dns` holds --cluster-dns, so no other Service is given that address and
//   `kubectl get svc -n kube-system` shows the cluster DNS as on K3s. It has no endpoints: every
//   agent answers DNS on that address itself (docs/services.md).
// Both are put back when someone changes or deletes them.
import type { ClusterNetwork } from '../../../common/cluster-network.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';

export interface ClusterServicesOptions {
  readonly network: ClusterNetwork;
  /** Where in-cluster clients reach the API. */
  readonly apiEndpoint: { readonly ip: string; readonly port: number };
}

const RESYNC_MS = 30_000;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function createClusterServicesController(ctx: ControllerContext, o: ClusterServicesOptions): Controller {
  const { client, log } = ctx;
  const { ip, port } = o.apiEndpoint;
  const family = ip.includes(':') ? 'IPv6' : 'IPv4';
  return controllerFromRun('cluster-services', async (signal, ready) => {
    const services = ctx.informers.informerFor<KubeObject & { spec?: Record<string, unknown> }>(resources.services);
    const slices = ctx.informers.informerFor<KubeObject & { endpoints?: unknown; ports?: unknown; addressType?: string }>(resources.endpointSlices);
    const endpoints = ctx.informers.informerFor<KubeObject & { subsets?: unknown }>(resources.endpoints);
    let wake: (() => void) | undefined;
    const kick = () => wake?.();
    const watch = (o2: KubeObject) =>
      ((o2.metadata.namespace === 'default' && o2.metadata.name === 'kubernetes') || (o2.metadata.namespace === 'kube-system' && o2.metadata.name === 'kube-dns')) && kick();
    const offs = [services, slices, endpoints].map((i) => i.addEventHandler({ update: (_, x) => watch(x), delete: (x) => watch(x) }));

    async function put<T extends KubeObject>(ref: ReturnType<typeof inNamespace>, current: T | undefined, want: T): Promise<void> {
      if (!current) await client.create(ref, want).catch((err: unknown) => {
        if (!(err instanceof AlreadyExistsError)) throw err;
      });
      else await client.update(ref, { ...want, metadata: { ...current.metadata, labels: want.metadata.labels } });
    }

    async function apiEndpoints(): Promise<void> {
      const epPorts = [{ name: 'https', port, protocol: 'TCP' }];
      const slice = slices.get('default', 'kubernetes');
      const wantSlice = {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { [SERVICE_NAME_LABEL]: 'kubernetes' } },
        addressType: family, endpoints: [{ addresses: [ip], conditions: { ready: true } }], ports: epPorts,
      };
      if (!slice || !same(slice.endpoints, wantSlice.endpoints) || !same(slice.ports, epPorts) || slice.addressType !== family) {
        if (slice && slice.addressType !== family) await client.delete(inNamespace(resources.endpointSlices, 'default'), 'kubernetes');
        await put(inNamespace(resources.endpointSlices, 'default'), slice?.addressType === family ? slice : undefined, wantSlice);
        log.info({ address: ip, port }, 'the kubernetes Service points at the API server');
      }
      const ep = endpoints.get('default', 'kubernetes');
      const subsets = [{ addresses: [{ ip }], ports: epPorts }];
      if (!ep || !same(ep.subsets, subsets)) {
        await put(inNamespace(resources.endpoints, 'default'), ep, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets });
      }
      const svc = services.get('default', 'kubernetes');
      const ports = (svc?.spec?.ports as { targetPort?: unknown }[] | undefined) ?? [];
      if (svc && ports.length === 1 && ports[0]!.targetPort !== port) {
        await client.update(inNamespace(resources.services, 'default'), { ...svc, spec: { ...svc.spec, ports: [{ ...ports[0], targetPort: port }] } });
      }
    }

    async function dnsService(): Promise<void> {
      const ref = inNamespace(resources.services, 'kube-system');
      const svc = services.get('kube-system', 'kube-dns');
      if (svc?.spec?.clusterIP === o.network.clusterDns) return;
      if (svc) {
        log.info({ was: svc.spec?.clusterIP, now: o.network.clusterDns }, '--cluster-dns changed: recreating kube-system/kube-dns');
        await client.delete(ref, 'kube-dns');
      }
      try {
        await client.create(ref, {
          apiVersion: 'v1', kind: 'Service',
          metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'edgeos-dns' }, annotations: { 'edgeos.io/served-by': 'every node\'s agent, on this address (docs/services.md)' } },
          spec: { type: 'ClusterIP', clusterIP: o.network.clusterDns, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }] },
        });
      } catch (err) {
        if (err instanceof AlreadyExistsError) return;
        // Another Service holds the address: DNS still works (agents answer on it), the name does not.
        log.error({ clusterDns: o.network.clusterDns, err: String(err) }, 'cannot create kube-system/kube-dns on --cluster-dns');
      }
    }

    try {
      await ctx.informers.waitForSync(signal);
      ready();
      while (!signal.aborted) {
        try {
          await apiEndpoints();
          await dnsService();
        } catch (err) {
          if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, RESYNC_MS);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
          signal.addEventListener('abort', () => wake?.(), { once: true });
        });
        wake = undefined;
      }
    } finally {
      for (const off of offs) off();
    }
  });
}

export function clusterServicesController(o: ClusterServicesOptions): ControllerDescriptor {
  return { name: 'cluster-services', create: (ctx) => createClusterServicesController(ctx, o) };
}
