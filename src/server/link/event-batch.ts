/**
 * The kubelet Events of every link that arrive within one short window, created in ONE store
 * transaction (docs/link.md, "Event writes"). An Event used to be a request to the server's own API
 * as the node (node-writes.ts): an HTTP/1.1 exchange over an in-memory stream pair, authorization,
 * admission, managedFields, one store transaction. A pod's start is three of them (Pulled,
 * Created, Started) next to one status write, and Events were half the store's writes of a
 * 1,000-node density run (bench/fleet/README.md).
 *
 * What an Event create does is known and always allowed: the Node authorizer lets a node create
 * Events in any namespace, NodeRestriction does not look at them, and the object is the one
 * `kubeletEvent` builds. So each is finished here as the API's create would (uid,
 * creationTimestamp, the agent's managedFields entry, the kind's validation, the namespace
 * lifecycle check, the 1 h TTL) and the creates of the window are one `txn`: one commit, one batch
 * of watch events. A create whose name is taken makes the transaction write nothing; the batch is
 * then written one Event at a time, so only that one fails. The ack waits for the commit (at most
 * `windowMs` later than alone).
 */
import { randomUUID } from 'node:crypto';
import type { EventMessage } from '../../common/link/protocol.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import type { Store, TxnOp } from '../../store/types.ts';
import { KeyExistsError } from '../../store/errors.ts';
import { rfc3339 } from '../kinds/age.ts';
import { present } from '../kinds/types.ts';
import type { KubeObject } from '../kinds/types.ts';
import { recordUpdate } from '../patch/index.ts';
import { ResourceRegistry, objectKey } from '../registry/index.ts';
import { requireActiveNamespace } from '../storage/namespace-lifecycle.ts';
import { ApiError } from '../storage/status.ts';
import { encodeForStore } from '../storage/objects.ts';
import { kubeletEvent } from './node-writes.ts';
import { writeWindow } from './write-window.ts';

const registry = new ResourceRegistry();
const events = registry.resolve('', 'v1', 'events')!;

/** The field manager of a node's writes through the API (the agent's user agent up to "/"). */
export const AGENT_FIELD_MANAGER = 'edgeos-agent';

interface Pending {
  readonly namespace: string;
  readonly name: string;
  readonly op: TxnOp;
  readonly what: string;
  resolve(): void;
  reject(err: unknown): void;
}

export interface EventBatch {
  /** Creates the Event a node's agent reported; resolves once it is committed. */
  create(node: string, e: EventMessage['event']): Promise<void>;
  /** Writes what waits now (the server is stopping); later Events are written alone. */
  close(): Promise<void>;
}

/** A store failure as the link's error: busy (the agent sends it again) unless it is about this Event. */
function linkError(err: unknown, what: string): LinkError {
  if (err instanceof LinkError) return err;
  if (err instanceof KeyExistsError) return new LinkError(LinkErrorCode.LINK_REFUSED, `${what}: already exists`);
  if (err instanceof ApiError) return new LinkError(err.httpStatus === 429 || err.httpStatus >= 500 ? LinkErrorCode.LINK_BUSY : LinkErrorCode.LINK_REFUSED, `${what}: ${err.message}`);
  // The store is unavailable or failed: as the API's 5xx, the agent sends it again.
  return new LinkError(LinkErrorCode.LINK_BUSY, `${what}: ${err instanceof Error ? err.message : String(err)}`);
}

export function eventBatch(store: Store, o: { windowMs?: number; maxOps?: number; now?: () => Date } = {}): EventBatch {
  const now = o.now ?? (() => new Date());
  // NamespaceLifecycle reads the namespace from the store (the API reads its watch-fed cache).
  const namespaces = { registry, cache: { get: (key: string) => store.get(key) } };
  const window = writeWindow<Pending>({ windowMs: o.windowMs ?? 100, maxItems: o.maxOps ?? 500, write: flush });

  /** Builds the stored Event as the API's create would; throws LINK_REFUSED for an invalid one. */
  function prepare(node: string, e: EventMessage['event']): { namespace: string; name: string; op: TxnOp; what: string } {
    const obj = kubeletEvent(node, e) as KubeObject & { metadata: Record<string, unknown> & { name: string; namespace: string } };
    const { name, namespace } = obj.metadata;
    const what = `record event ${e.reason} for ${namespace}/${e.involvedObject.name}`;
    const at = rfc3339(now());
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = at;
    const managed = recordUpdate(AGENT_FIELD_MANAGER, 'Update', undefined, obj, { group: '', version: 'v1', kind: 'Event' }, at);
    if (managed.length > 0) obj.metadata.managedFields = managed;
    const errs = present(events.builtin!.validate)?.(obj, undefined) ?? [];
    if (errs.length > 0) throw new LinkError(LinkErrorCode.LINK_REFUSED, `${what}: Event "${name}" is invalid: ${errs.map((x) => `${x.field}: ${x.message}`).join(', ')}`);
    return { namespace, name, what, op: { op: 'create', key: objectKey(events, namespace, name), value: encodeForStore(events, obj), ttlSeconds: events.ttlSeconds! } };
  }

  async function flush(batch: Pending[]): Promise<void> {
    // The namespace lifecycle check, once per namespace of the batch.
    const refused = new Map<string, unknown>();
    for (const ns of new Set(batch.map((p) => p.namespace))) {
      await requireActiveNamespace(namespaces, ns, { group: '', plural: 'events' }, batch.find((p) => p.namespace === ns)!.name).catch((err: unknown) => refused.set(ns, err));
    }
    const writing: Pending[] = [];
    for (const p of batch) {
      if (refused.has(p.namespace)) p.reject(linkError(refused.get(p.namespace), p.what));
      else writing.push(p);
    }
    if (writing.length === 0) return;
    try {
      await store.txn(writing.map((p) => p.op));
      for (const p of writing) p.resolve();
      return;
    } catch (err) {
      if (!(err instanceof KeyExistsError)) {
        for (const p of writing) p.reject(linkError(err, p.what));
        return;
      }
    }
    // One name was taken and the transaction wrote nothing: each on its own, so only that one fails.
    for (const p of writing) {
      await store.txn([p.op]).then(
        () => p.resolve(),
        (err: unknown) => p.reject(linkError(err, p.what)),
      );
    }
  }

  return {
    create(node, e) {
      let prepared: ReturnType<typeof prepare>;
      try {
        prepared = prepare(node, e);
      } catch (err) {
        return Promise.reject(linkError(err, `record event ${e.reason}`));
      }
      return new Promise<void>((resolve, reject) => window.add({ ...prepared, resolve, reject }));
    },
    close: () => window.close(),
  };
}
