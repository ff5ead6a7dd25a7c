// The namespace controller (kube's NamespacedResourcesDeleter): a namespace being deleted
// (deletionTimestamp set, phase Terminating) is emptied of every namespaced resource the server
// serves, custom resources included; once nothing is left, the `kubernetes` finalizer is removed
// through namespaces/<name>/finalize, which lets the API remove the namespace. Content that takes
// time to go (graceful pods, finalizers) is re-checked until it is gone.
import { createDiscoveryCache } from '../discovery-cache.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import { NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';

const FINALIZER = 'kubernetes';
const RECHECK_MS = 1000;

interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

interface Remaining {
  /** group-resource ("pods", "widgets.example.com") → objects left. */
  readonly resources: ReadonlyMap<string, number>;
  /** finalizer → objects holding it. */
  readonly finalizers: ReadonlyMap<string, number>;
}

export function createNamespaceController(ctx: ControllerContext): Controller {
  const { client, log } = ctx;
  return controllerFromRun('namespace', async (signal, ready) => {
    const namespaces = ctx.informers.informerFor<Namespace>(resources.namespaces);
    const discovery = createDiscoveryCache(client);
    const queue = createWorkQueue(log);
    const enqueue = (ns: Namespace) => {
      if (ns.metadata.deletionTimestamp) queue.add(ns.metadata.name ?? '');
    };
    const off = namespaces.addEventHandler({ add: enqueue, update: (_, ns) => enqueue(ns) });

    /** Deletes what is left; returns what still exists (some of it terminating) and the finalizers holding it. */
    async function deleteContent(ns: string): Promise<Remaining> {
      const all = (await discovery.resources(signal)).filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
      const touched: typeof all = [];
      for (const r of all) {
        const ref = inNamespace(r, ns);
        const list = await client.list(ref, { signal });
        if (list.items.length > 0) touched.push(r);
        for (const obj of list.items) {
          if (obj.metadata.deletionTimestamp) continue;
          try {
            await client.delete(ref, obj.metadata.name ?? '', { propagationPolicy: 'Background', signal });
          } catch (err) {
            if (!(err instanceof NotFoundError)) throw err;
          }
        }
      }
      // Deleting returns before graceful or finalized objects go: count again what is really left.
      const left = new Map<string, number>();
      const finalizers = new Map<string, number>();
      for (const r of touched) {
        const items = (await client.list(inNamespace(r, ns), { signal })).items;
        if (items.length === 0) continue;
        left.set(r.group ? `${r.resource}.${r.group}` : r.resource, items.length);
        for (const o of items) for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
      }
      return { resources: left, finalizers };
    }

    async function sync(name: string): Promise<void> {
      const ns = namespaces.get(undefined, name);
      if (!ns?.metadata.deletionTimestamp) return;
      const finalizers = ns.spec?.finalizers ?? [];
      if (finalizers.includes(FINALIZER)) {
        const remaining = await deleteContent(name);
        if (remaining.resources.size > 0) {
          log.debug({ namespace: name, remaining: Object.fromEntries(remaining.resources), finalizers: Object.fromEntries(remaining.finalizers) }, 'namespace content remaining');
          queue.addAfter(name, RECHECK_MS);
          return;
        }
        // Finalize from the freshest copy; a conflict is retried by the queue.
        const cur = await client.get<Namespace>(resources.namespaces, name, { signal });
        await client.replaceSubresource(resources.namespaces, { ...cur, spec: { ...(cur.spec ?? {}), finalizers: (cur.spec?.finalizers ?? []).filter((f) => f !== FINALIZER) } }, 'finalize');
        log.info({ namespace: name }, 'namespace emptied and finalized');
      }
      // With every spec finalizer gone the API removes the namespace; deleting again asks it to.
      const after = await client.get<Namespace>(resources.namespaces, name, { signal }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (after && (after.spec?.finalizers ?? []).length === 0 && (after.metadata.finalizers ?? []).length === 0) {
        await client.delete(resources.namespaces, name, { signal }).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
      }
    }

    try {
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run(sync, { workers: ctx.options.workers, signal });
    } finally {
      off();
    }
  });
}

export const namespaceController: ControllerDescriptor = { name: 'namespace', create: createNamespaceController };
