// What every namespace holds for its pods' API access, kept as kube-controller-manager keeps it:
// - the `default` ServiceAccount (serviceaccounts-controller), which a pod without
//   serviceAccountName runs as;
// - the `kube-root-ca.crt` ConfigMap with the cluster CA in `ca.crt` (root-ca-cert-publisher),
//   which the kubelet projects into every pod's kube-api-access volume so in-cluster clients can
//   verify https://kubernetes.default.svc.
// Both are put back when deleted (and the ConfigMap when its CA is changed); namespaces being
// deleted are left alone.
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIG_MAP = 'kube-root-ca.crt';
/** Upstream's annotation on the ConfigMap, word for word. */
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

interface Namespace extends KubeObject {
  status?: { phase?: string };
}
interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function createNamespaceDefaultsController(ctx: ControllerContext, caPem: string): Controller {
  const { client, log } = ctx;
  return controllerFromRun('namespace-defaults', async (signal, ready) => {
    const namespaces = ctx.informers.informerFor<Namespace>(resources.namespaces);
    const accounts = ctx.informers.informerFor(resources.serviceAccounts);
    const configMaps = ctx.informers.informerFor<ConfigMap>(resources.configMaps);
    const queue = createWorkQueue(log);
    const nsOf = (o: KubeObject) => queue.add(o.metadata.namespace ?? '');
    const offs = [
      namespaces.addEventHandler({ add: (ns) => queue.add(ns.metadata.name ?? ''), update: (_, ns) => queue.add(ns.metadata.name ?? '') }),
      accounts.addEventHandler({ delete: (sa) => sa.metadata.name === DEFAULT_SERVICE_ACCOUNT && nsOf(sa) }),
      configMaps.addEventHandler({
        update: (_, cm) => cm.metadata.name === ROOT_CA_CONFIG_MAP && nsOf(cm),
        delete: (cm) => cm.metadata.name === ROOT_CA_CONFIG_MAP && nsOf(cm),
      }),
    ];

    async function create(ref: ReturnType<typeof inNamespace>, obj: KubeObject): Promise<void> {
      try {
        await client.create(ref, obj, { signal });
        log.info({ namespace: ref.namespace, resource: ref.resource, name: obj.metadata.name }, 'created');
      } catch (err) {
        // Already there (a race with our own informer) or the namespace is going away.
        if (err instanceof AlreadyExistsError || err instanceof NotFoundError) return;
        if ((err as { status?: number }).status === 403) return;
        throw err;
      }
    }

    async function sync(name: string): Promise<void> {
      const ns = namespaces.get(undefined, name);
      if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
      if (!accounts.get(name, DEFAULT_SERVICE_ACCOUNT)) {
        await create(inNamespace(resources.serviceAccounts, name), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace: name } });
      }
      const cm = configMaps.get(name, ROOT_CA_CONFIG_MAP);
      const want = { 'ca.crt': caPem };
      if (!cm) {
        await create(inNamespace(resources.configMaps, name), {
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIG_MAP, namespace: name, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
          data: want,
        });
      } else if (cm.data?.['ca.crt'] !== caPem || Object.keys(cm.data).length !== 1) {
        try {
          await client.update(inNamespace(resources.configMaps, name), { ...cm, data: want });
        } catch (err) {
          if (err instanceof ConflictError) queue.add(name);
          else if (!(err instanceof NotFoundError)) throw err;
        }
      }
    }

    try {
      await ctx.informers.waitForSync(signal);
      for (const ns of namespaces.list()) queue.add(ns.metadata.name ?? '');
      ready();
      await queue.run(sync, { workers: 1, signal });
    } finally {
      for (const off of offs) off();
    }
  });
}

/** Needs the cluster CA, so the server builds it at start (src/cli/server-command.ts). */
export function namespaceDefaultsController(o: { caPem: string }): ControllerDescriptor {
  return { name: 'namespace-defaults', create: (ctx) => createNamespaceDefaultsController(ctx, o.caPem) };
}
