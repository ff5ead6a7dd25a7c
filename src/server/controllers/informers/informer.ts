// One resource listed and watched into an ObjectCache (client-go's Reflector + SharedIndexInformer):
// list, then watch from the list's resourceVersion with bookmarks; a watch that ends is resumed
// from the last resourceVersion seen; 410 Gone (compacted) relists and diffs the cache against
// the fresh list so handlers see the adds, updates and deletes they missed.
import type { Logger } from '../../../common/log.ts';
import { objectKey } from '../keys.ts';
import type { EventHandler, Informer, KubeClient, KubeObject, LabelSelector, ResourceRef } from '../types.ts';
import { ObjectCache } from './cache.ts';

export interface RunnableInformer<T extends KubeObject> extends Informer<T> {
  /** Runs until `signal` aborts; never rejects. */
  run(signal: AbortSignal): Promise<void>;
  readonly synced: Promise<void>;
  /** Objects in the cache now (edgeos_cache_objects). */
  size(): number;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createInformer<T extends KubeObject>(client: KubeClient, ref: ResourceRef, log: Logger): RunnableInformer<T> {
  const resource: ResourceRef = { group: ref.group, version: ref.version, resource: ref.resource };
  const cache = new ObjectCache<T>();
  const handlers = new Set<EventHandler<T>>();
  let synced = false;
  let rv = '';
  let markSynced: () => void = () => {};
  const syncedPromise = new Promise<void>((r) => (markSynced = r));
  const l = log.child({ resource: `${ref.resource}${ref.group ? `.${ref.group}` : ''}` });

  function emit(fn: (h: EventHandler<T>) => void): void {
    for (const h of handlers) {
      try {
        fn(h);
      } catch (err) {
        l.error({ err }, 'an informer event handler threw');
      }
    }
  }

  function apply(type: string, obj: T): void {
    if (type === 'DELETED') {
      const old = cache.remove(objectKey(obj));
      if (old) emit((h) => h.delete?.(obj));
      return;
    }
    const old = cache.put(obj);
    if (!old) emit((h) => h.add?.(obj));
    else emit((h) => h.update?.(old, obj));
  }

  async function relist(signal: AbortSignal): Promise<void> {
    const list = await client.list<T>(resource, { signal });
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = cache.getByKey(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      apply('MODIFIED', obj);
    }
    for (const key of [...cache.keys()]) {
      if (seen.has(key)) continue;
      const old = cache.getByKey(key);
      if (old) apply('DELETED', old);
    }
    rv = list.resourceVersion;
    if (!synced) {
      synced = true;
      markSynced();
    }
  }

  /** Returns false when the watch must restart with a relist (410). */
  async function watchOnce(signal: AbortSignal): Promise<boolean> {
    // Like client-go, a random 5–10 min server-side timeout keeps connections from living forever.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    for await (const ev of client.watch<T>(resource, { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds, signal })) {
      if (ev.type === 'ERROR') {
        const status = ev.object as unknown as { code?: number; message?: string };
        if (status.code === 410) return false;
        l.warn({ code: status.code, message: status.message }, 'watch error event; relisting');
        return false;
      }
      const nextRv = ev.object.metadata?.resourceVersion;
      if (ev.type !== 'BOOKMARK') apply(ev.type, ev.object);
      if (nextRv) rv = nextRv;
    }
    return true;
  }

  async function run(signal: AbortSignal): Promise<void> {
    let needList = true;
    let delay = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        if (needList) await relist(signal);
        needList = !(await watchOnce(signal));
        delay = RETRY_MIN_MS;
      } catch (err) {
        if (signal.aborted) break;
        l.warn({ err: (err as Error).message }, 'list/watch failed; retrying');
        // Without a resourceVersion to resume from, only a relist can rebuild the cache.
        if (!rv) needList = true;
        await sleep(delay, signal);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  return {
    ref: resource,
    run,
    synced: syncedPromise,
    size: () => cache.size,
    get: (ns, name) => cache.get(ns, name),
    list: (ns?: string, sel?: LabelSelector | Record<string, string>) => cache.list(ns, sel),
    byIndex: (index, value) => cache.byIndex(index, value),
    addIndex: (name, fn) => cache.addIndex(name, fn),
    hasSynced: () => synced,
    lastSyncResourceVersion: () => rv,
    addEventHandler(h) {
      handlers.add(h);
      if (synced) for (const o of cache.list()) h.add?.(o);
      return () => handlers.delete(h);
    },
  };
}
