// One informer per resource for all controllers (client-go's SharedInformerFactory). Informers
// requested before start run at start; requested later, they start at once.
import type { Logger } from '../../../common/log.ts';
import type { Informer, KubeClient, KubeObject, ResourceRef, SharedInformers } from '../types.ts';
import { createInformer } from './informer.ts';
import type { RunnableInformer } from './informer.ts';

export interface RunnableSharedInformers extends SharedInformers {
  start(signal: AbortSignal): void;
  /** Resolves when every running informer has returned (after the start signal aborted). */
  stopped(): Promise<void>;
  /** Objects cached per informer, by resource as apiserver_storage_objects names it ("pods", "deployments.apps"). */
  cacheSizes(): Map<string, number>;
}

export function createSharedInformers(client: KubeClient, log: Logger): RunnableSharedInformers {
  const informers = new Map<string, RunnableInformer<KubeObject>>();
  const running: Promise<void>[] = [];
  let signal: AbortSignal | undefined;
  const l = log.child({ component: 'informers' });

  const key = (ref: ResourceRef) => `${ref.group}/${ref.version}/${ref.resource}`;

  return {
    informerFor<T extends KubeObject>(ref: ResourceRef): Informer<T> {
      let inf = informers.get(key(ref));
      if (!inf) {
        inf = createInformer<KubeObject>(client, ref, l);
        informers.set(key(ref), inf);
        if (signal) running.push(inf.run(signal));
      }
      return inf as unknown as Informer<T>;
    },
    async waitForSync(s: AbortSignal): Promise<void> {
      const all = Promise.all([...informers.values()].map((i) => i.synced));
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(s.reason instanceof Error ? s.reason : new Error('aborted while waiting for informers to sync'));
        if (s.aborted) return onAbort();
        s.addEventListener('abort', onAbort, { once: true });
        all.then(() => {
          s.removeEventListener('abort', onAbort);
          resolve();
        }, reject);
      });
    },
    start(s: AbortSignal): void {
      if (signal) return;
      signal = s;
      for (const inf of informers.values()) running.push(inf.run(s));
    },
    cacheSizes(): Map<string, number> {
      const out = new Map<string, number>();
      for (const inf of informers.values()) {
        const name = inf.ref.group ? `${inf.ref.resource}.${inf.ref.group}` : inf.ref.resource;
        out.set(name, (out.get(name) ?? 0) + inf.size());
      }
      return out;
    },
    async stopped(): Promise<void> {
      await Promise.all(running);
    },
  };
}
