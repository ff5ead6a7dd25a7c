// core/v1 Events as client-go's recorder writes them: name "<object>.<hex nanos>", source
// component, first/last timestamps, and aggregation — the same (object, type, reason, message)
// again bumps `count` and `lastTimestamp` on the Event already written (EventCorrelator's
// EventLogger) instead of creating another one. The API stores Events with a 1 h TTL.
import type { Logger } from '../../common/log.ts';
import type { Clock, EventRecorder, EventType, KubeClient, KubeObject, ObjectReference } from './types.ts';
import { NotFoundError, resources } from './types.ts';

/** Aggregation memory, like client-go's LRU of 4096 entries. */
const MAX_REMEMBERED = 4096;
/**
 * Events are written one at a time, like client-go's broadcaster goroutine, so a burst of events
 * trails behind the controller's own writes instead of competing with them …
 */
const MAX_IN_FLIGHT = 1;
/** … and, as its 1000-slot channel with DropIfChannelFull, a backlog beyond this is dropped. */
const MAX_QUEUED = 1000;

interface Remembered {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
}

function referenceOf(o: KubeObject | ObjectReference): ObjectReference {
  if ('metadata' in o && o.metadata && typeof o.metadata === 'object') {
    const m = (o as KubeObject).metadata;
    return {
      ...(o.apiVersion ? { apiVersion: o.apiVersion } : {}),
      ...(o.kind ? { kind: o.kind as string } : {}),
      ...(m.namespace ? { namespace: m.namespace } : {}),
      ...(m.name ? { name: m.name } : {}),
      ...(m.uid ? { uid: m.uid } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    };
  }
  return o as ObjectReference;
}

export function createEventRecorder(deps: { client: KubeClient; component: string; clock: Clock; log: Logger; host?: string }): EventRecorder {
  const remembered = new Map<string, Remembered>();
  const pending = new Set<Promise<void>>();
  const waiting: Array<() => void> = [];
  let inFlight = 0;

  async function slot(): Promise<void> {
    if (inFlight < MAX_IN_FLIGHT) {
      inFlight++;
      return;
    }
    await new Promise<void>((r) => waiting.push(r));
  }
  function release(): void {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  }

  async function write(ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date(deps.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    // Cluster-scoped objects (nodes) have their events in "default", as kubelet and the node controller do.
    const namespace = ref.namespace || 'default';
    const key = [ref.uid ?? '', ref.kind ?? '', namespace, ref.name ?? '', type, reason, message].join('\u0000');
    await slot();
    try {
      // Looked up only now: an identical event queued just before has been written by this time.
      const seen = remembered.get(key);
      if (seen) {
        seen.count++;
        try {
          await deps.client.patch({ ...resources.events, namespace }, seen.name, 'merge', { count: seen.count, lastTimestamp: now });
          return;
        } catch (err) {
          // Expired by the 1 h TTL (or deleted): start a new Event, as the correlator does.
          if (!(err instanceof NotFoundError)) throw err;
          remembered.delete(key);
        }
      }
      const name = `${ref.name ?? 'unknown'}.${(BigInt(deps.clock.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
      const event: KubeObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: ref,
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: deps.component, ...(deps.host ? { host: deps.host } : {}) },
        reportingComponent: deps.component,
        reportingInstance: deps.host ?? '',
      };
      await deps.client.create({ ...resources.events, namespace }, event);
      if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
      remembered.set(key, { namespace, name, count: 1, firstTimestamp: now });
    } finally {
      release();
    }
  }

  return {
    event(involved, type, reason, message) {
      const ref = referenceOf(involved);
      if (waiting.length >= MAX_QUEUED) {
        deps.log.debug({ reason, object: `${ref.namespace ?? ''}/${ref.name ?? ''}` }, 'event backlog full: dropping an event');
        return;
      }
      const p = write(ref, type, reason, message).catch((err: unknown) => {
        deps.log.warn({ err: (err as Error).message, reason, object: `${ref.namespace ?? ''}/${ref.name ?? ''}` }, 'could not record an event');
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
