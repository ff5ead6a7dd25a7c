// The garbage collector (kube-controller-manager's garbagecollector): watches every deletable
// resource the server serves (custom resources too, rediscovered every 30 s), keeps an owner graph
// and acts on three cases:
//  - a dependent whose owners are all gone (404, or a different uid under that name) is deleted in
//    the background; owners that are gone are dropped from a dependent that still has live ones;
//  - an owner being deleted with the foregroundDeletion finalizer gets its dependents deleted
//    (blocking ones in the foreground too) and loses the finalizer once no dependent with
//    blockOwnerDeletion is left, so the API removes it;
//  - an owner being deleted with the orphan finalizer gets its references removed from every
//    dependent, then loses the finalizer.
// It is the only owner of cascading deletion: the API deletes the owner alone (Background) or adds
// the foregroundDeletion or orphan finalizer the propagation policy asks for (api/delete), and this
// controller does the rest, for namespaced and cluster-scoped owners alike, dependents created
// during or after the owner's deletion, and references to owners that never existed.
import { createDiscoveryCache } from '../discovery-cache.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import { ConflictError, NotFoundError } from '../types.ts';
import type { ApiResource, Controller, ControllerContext, ControllerDescriptor, KubeObject, OwnerReference, ResourceRef } from '../types.ts';
import { FOREGROUND, ORPHAN, OwnerGraph } from './graph.ts';
import type { GraphNode } from './graph.ts';

const REDISCOVER_MS = 30_000;
/** Events never own anything and churn the most; kube's collector ignores them too. */
const IGNORED = new Set(['events', 'events.events.k8s.io']);

const refOf = (n: GraphNode): ResourceRef => ({ group: n.resource.group, version: n.resource.version, resource: n.resource.resource, ...(n.namespace ? { namespace: n.namespace } : {}) });

type OwnerState = 'present' | 'absent' | 'waiting';

export function createGarbageCollector(ctx: ControllerContext): Controller {
  const { client, log } = ctx;
  return controllerFromRun('garbage-collector', async (signal, ready) => {
    const graph = new OwnerGraph();
    const discovery = createDiscoveryCache(client);
    const queue = createWorkQueue(log);
    const watched = new Set<string>();
    const offs: Array<() => void> = [];

    function watch(r: ApiResource): void {
      const id = r.group ? `${r.resource}.${r.group}` : r.resource;
      if (watched.has(id) || IGNORED.has(id) || r.resource.includes('/')) return;
      if (!['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) return;
      watched.add(id);
      const inf = ctx.informers.informerFor(r);
      offs.push(
        inf.addEventHandler({
          add: (o) => observe(r, o),
          update: (_, o) => observe(r, o),
          delete: (o) => {
            const gone = graph.remove(o.metadata.uid ?? '');
            if (!gone) return;
            // Its dependents may now be orphans; the owners it blocked may now be done.
            for (const d of graph.dependents(gone.uid)) queue.add(d.uid);
            for (const o2 of gone.owners) queue.add(o2.uid);
          },
        }),
      );
    }

    function observe(r: ApiResource, o: KubeObject): void {
      const res = graph.upsert(r, o);
      if (!res) return;
      const { node, old } = res;
      const ownersChanged = !old || JSON.stringify(old.owners) !== JSON.stringify(node.owners);
      if (node.owners.length > 0 && (ownersChanged || node.deleting !== old?.deleting)) queue.add(node.uid);
      if (node.deleting && (node.finalizers.includes(FOREGROUND) || node.finalizers.includes(ORPHAN))) queue.add(node.uid);
      // An owner that turned into foreground deletion changes what its dependents must do.
      if (node.deleting && !old?.deleting) for (const d of graph.dependents(node.uid)) queue.add(d.uid);
    }

    async function discover(): Promise<void> {
      for (const r of await discovery.resources(signal)) watch(r);
    }

    async function ownerState(ref: OwnerReference, dependent: GraphNode): Promise<OwnerState> {
      const known = graph.get(ref.uid);
      if (known) return known.deleting && known.finalizers.includes(FOREGROUND) ? 'waiting' : 'present';
      const r = await discovery.forKind(ref.apiVersion, ref.kind, signal);
      if (!r) throw new Error(`owner kind ${ref.kind} in ${ref.apiVersion} is not served`);
      // A cluster-scoped dependent cannot have a namespaced owner: the reference can never resolve.
      if (r.namespaced && !dependent.namespace) return 'absent';
      try {
        const live = await client.get({ group: r.group, version: r.version, resource: r.resource, ...(r.namespaced ? { namespace: dependent.namespace } : {}) }, ref.name, { signal });
        if (live.metadata.uid !== ref.uid) return 'absent';
        return live.metadata.deletionTimestamp && (live.metadata.finalizers ?? []).includes(FOREGROUND) ? 'waiting' : 'present';
      } catch (err) {
        if (err instanceof NotFoundError) return 'absent';
        throw err;
      }
    }

    async function removeFinalizer(n: GraphNode, finalizer: string): Promise<void> {
      await client.patch(refOf(n), n.name, 'merge', {
        metadata: { resourceVersion: n.resourceVersion, finalizers: n.finalizers.filter((f) => f !== finalizer) },
      });
    }

    async function deleteNode(n: GraphNode, policy: 'Background' | 'Foreground', exact = false): Promise<void> {
      try {
        // `exact`: the decision was taken on this resourceVersion; a newer one must be looked at again.
        const preconditions = exact ? { uid: n.uid, resourceVersion: n.resourceVersion } : { uid: n.uid };
        await client.delete(refOf(n), n.name, { propagationPolicy: policy, preconditions, signal });
        log.debug({ object: `${n.resource.resource}/${n.namespace ?? ''}/${n.name}`, policy }, 'deleted a dependent');
      } catch (err) {
        if (err instanceof ConflictError && exact) throw err;
        if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
      }
    }

    async function processOwner(n: GraphNode): Promise<void> {
      const deps = graph.dependents(n.uid);
      if (n.finalizers.includes(ORPHAN)) {
        for (const d of deps) {
          await client.patch(refOf(d), d.name, 'merge', {
            metadata: { resourceVersion: d.resourceVersion, ownerReferences: d.owners.filter((o) => o.uid !== n.uid) },
          });
        }
        await removeFinalizer(n, ORPHAN);
        return;
      }
      if (n.finalizers.includes(FOREGROUND)) {
        for (const d of deps) {
          if (d.deleting) continue;
          const blocking = d.owners.some((o) => o.uid === n.uid && o.blockOwnerDeletion === true);
          await deleteNode(d, blocking ? 'Foreground' : 'Background');
        }
        const blocked = graph.dependents(n.uid).some((d) => d.owners.some((o) => o.uid === n.uid && o.blockOwnerDeletion === true));
        if (!blocked) await removeFinalizer(n, FOREGROUND);
      }
    }

    async function processDependent(cached: GraphNode): Promise<void> {
      // Owners the graph knows and that are not being deleted need no look (kube only checks
      // dependents of "virtual", i.e. unobserved, owners).
      if (cached.owners.every((o) => graph.get(o.uid) && !graph.get(o.uid)?.deleting)) return;
      // Decide on the live object, never on the cache: an orphaning owner may have just removed
      // itself from this dependent's references (kube's attemptToDeleteItem reads it live too).
      let live: KubeObject;
      try {
        live = await client.get(refOf(cached), cached.name, { signal });
      } catch (err) {
        if (err instanceof NotFoundError) return;
        throw err;
      }
      if (live.metadata.uid !== cached.uid) return;
      const n = graph.upsert(cached.resource, live)?.node;
      if (!n || n.owners.length === 0) return;
      const states = await Promise.all(n.owners.map(async (o) => ({ ref: o, state: await ownerState(o, n) })));
      const absent = states.filter((s) => s.state === 'absent');
      const waiting = states.filter((s) => s.state === 'waiting');
      const present = states.filter((s) => s.state === 'present');
      if (absent.length === 0 && waiting.length === 0) return;
      if (present.length > 0) {
        if (absent.length === 0) return;
        // Live owners keep the object; only the dangling references go.
        await client.patch(refOf(n), n.name, 'merge', {
          metadata: { resourceVersion: n.resourceVersion, ownerReferences: n.owners.filter((o) => !absent.some((a) => a.ref.uid === o.uid)) },
        });
        return;
      }
      if (n.deleting) return;
      await deleteNode(n, waiting.length > 0 && graph.dependents(n.uid).length > 0 ? 'Foreground' : 'Background', true);
    }

    async function sync(uid: string): Promise<void> {
      const n = graph.get(uid);
      if (!n) return;
      if (n.deleting && (n.finalizers.includes(FOREGROUND) || n.finalizers.includes(ORPHAN))) {
        await processOwner(n);
        return;
      }
      if (n.owners.length > 0) await processDependent(n);
    }

    const rediscover = setInterval(() => {
      discover().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'discovery failed'));
    }, REDISCOVER_MS);
    rediscover.unref();
    try {
      await discover();
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run(sync, { workers: ctx.options.workers, signal });
    } finally {
      clearInterval(rediscover);
      for (const off of offs) off();
    }
  });
}

export const garbageCollectorController: ControllerDescriptor = { name: 'garbage-collector', create: createGarbageCollector };
