// The two Services every cluster has, kept as kube-apiserver and K3s keep them:
// - `default/kubernetes` reaches the API servers: its Endpoints and EndpointSlices list the address
//   in-cluster clients dial (--advertise-address, else the host's first address) and the API port
//   of every live server — with several servers on one datastore, each one's from the servers
//   registry, until its record expires (kube-apiserver's "lease" endpoint reconciler) — which
//   every agent's datapath then routes `https://kubernetes.default.svc` to.
// - `kube-system/kube-dns` holds --cluster-dns, so no other Service is given that address and
//   `kubectl get svc -n kube-system` shows the cluster DNS as on K3s. It has no endpoints: every
//   agent answers DNS on that address itself (docs/services.md).
// Both are put back when someone changes or deletes them.
import type { ClusterNetwork } from '../../../common/cluster-network.ts';
import type { ApiEndpoint, ApiServers } from '../../cluster/types.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';

export interface ClusterServicesOptions {
  readonly network: ClusterNetwork;
  /** Where in-cluster clients reach this server's API. */
  readonly apiEndpoint: ApiEndpoint;
  /** With several servers: every live server's endpoint (else only this one's). */
  readonly apiServers?: ApiServers;
}

interface EndpointGroup {
  readonly name: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly port: number;
  readonly ips: string[];
}

/**
 * The servers' endpoints as EndpointSlices: one per address family and port (a slice has one
 * of each; servers normally share the port, so normally one), addresses sorted. The first is
 * `kubernetes`, as kube-apiserver names its one; the others `kubernetes-<port>[-v6]`.
 */
export function endpointGroups(endpoints: readonly ApiEndpoint[]): EndpointGroup[] {
  const groups = new Map<string, { family: 'IPv4' | 'IPv6'; port: number; ips: Set<string> }>();
  for (const e of endpoints) {
    const family = e.ip.includes(':') ? 'IPv6' : 'IPv4';
    const key = `${family}/${e.port}`;
    const g = groups.get(key) ?? { family, port: e.port, ips: new Set<string>() };
    g.ips.add(e.ip);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((x, y) => (x.family === y.family ? x.port - y.port : x.family === 'IPv4' ? -1 : 1))
    .map((g, i) => ({
      name: i === 0 ? 'kubernetes' : `kubernetes-${g.port}${g.family === 'IPv6' ? '-v6' : ''}`,
      family: g.family,
      port: g.port,
      ips: [...g.ips].sort(),
    }));
}

const RESYNC_MS = 30_000;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function createClusterServicesController(ctx: ControllerContext, o: ClusterServicesOptions): Controller {
  const { client, log } = ctx;
  const { port } = o.apiEndpoint;
  return controllerFromRun('cluster-services', async (signal, ready) => {
    const services = ctx.informers.informerFor<KubeObject & { spec?: Record<string, unknown> }>(resources.services);
    const slices = ctx.informers.informerFor<KubeObject & { endpoints?: unknown; ports?: unknown; addressType?: string }>(resources.endpointSlices);
    const endpoints = ctx.informers.informerFor<KubeObject & { subsets?: unknown }>(resources.endpoints);
    let wake: (() => void) | undefined;
    // Set by a change that arrives while a pass runs, so the next pass follows at once.
    let pending: boolean;
    const kick = () => {
      pending = true;
      wake?.();
    };
    const watch = (o2: KubeObject) =>
      ((o2.metadata.namespace === 'default' && (o2.metadata.name === 'kubernetes' || o2.metadata.labels?.[SERVICE_NAME_LABEL] === 'kubernetes')) ||
        (o2.metadata.namespace === 'kube-system' && o2.metadata.name === 'kube-dns')) &&
      kick();
    const offs = [services, slices, endpoints].map((i) => i.addEventHandler({ update: (_, x) => watch(x), delete: (x) => watch(x) }));
    // A server joined or dropped out (its registry record expired).
    if (o.apiServers) offs.push(o.apiServers.onChange(kick));
    let listed = '';

    async function put<T extends KubeObject>(ref: ReturnType<typeof inNamespace>, current: T | undefined, want: T): Promise<void> {
      if (!current) await client.create(ref, want).catch((err: unknown) => {
        if (!(err instanceof AlreadyExistsError)) throw err;
      });
      else await client.update(ref, { ...want, metadata: { ...current.metadata, labels: want.metadata.labels } });
    }

    async function apiEndpoints(): Promise<void> {
      const live = o.apiServers?.endpoints() ?? [];
      const groups = endpointGroups(live.length > 0 ? live : [o.apiEndpoint]);
      const sliceRef = inNamespace(resources.endpointSlices, 'default');
      for (const g of groups) {
        const epPorts = [{ name: 'https', port: g.port, protocol: 'TCP' }];
        const slice = slices.get('default', g.name);
        const wantSlice = {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { name: g.name, namespace: 'default', labels: { [SERVICE_NAME_LABEL]: 'kubernetes' } },
          addressType: g.family, endpoints: g.ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })), ports: epPorts,
        };
        if (!slice || !same(slice.endpoints, wantSlice.endpoints) || !same(slice.ports, epPorts) || slice.addressType !== g.family) {
          if (slice && slice.addressType !== g.family) await client.delete(sliceRef, g.name);
          await put(sliceRef, slice?.addressType === g.family ? slice : undefined, wantSlice);
        }
      }
      // Slices of servers (ports, families) no longer there.
      const wanted = new Set(groups.map((g) => g.name));
      for (const slice of slices.list('default', { [SERVICE_NAME_LABEL]: 'kubernetes' })) {
        if (!wanted.has(slice.metadata.name!)) await client.delete(sliceRef, slice.metadata.name!);
      }
      const ep = endpoints.get('default', 'kubernetes');
      const subsets = groups.map((g) => ({ addresses: g.ips.map((ip) => ({ ip })), ports: [{ name: 'https', port: g.port, protocol: 'TCP' }] }));
      if (!ep || !same(ep.subsets, subsets)) {
        await put(inNamespace(resources.endpoints, 'default'), ep, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets });
      }
      const now = groups.flatMap((g) => g.ips.map((ip) => (ip.includes(':') ? `[${ip}]:${g.port}` : `${ip}:${g.port}`))).join(' ');
      if (now !== listed) log.info({ endpoints: now }, 'the kubernetes Service points at the API servers');
      listed = now;
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
        pending = false;
        try {
          await apiEndpoints();
          await dnsService();
        } catch (err) {
          if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        }
        if (pending) continue;
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
