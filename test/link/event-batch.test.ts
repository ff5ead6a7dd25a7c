// The kubelet Events of every link within one window are created in one store transaction, each
// finished as the API's create would (uid, creationTimestamp, the agent's managedFields, the 1 h
// TTL); an Event in a namespace that does not exist, or whose name was taken meanwhile, fails
// alone and the others land.
import { describe, expect, it } from 'vitest';
import { LinkError, LinkErrorCode } from '../../src/common/link/errors.ts';
import { silentLogger } from '../../src/common/log.ts';
import { eventBatch } from '../../src/server/link/event-batch.ts';
import { ResourceRegistry, objectKey } from '../../src/server/registry/index.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { KeyValue, Store, TxnOp } from '../../src/store/types.ts';

const registry = new ResourceRegistry();
const nsKey = (ns: string) => objectKey(registry.resolve('', 'v1', 'namespaces')!, '', ns);
const event = (namespace: string, name: string, reason: string) => ({
  involvedObject: { kind: 'Pod', namespace, name, uid: `uid-${name}` },
  type: 'Normal' as const,
  reason,
  message: `${reason} container c`,
  at: Date.parse('2026-12-07T20:00:00Z'),
});

/** The store with its txn replaced (to count, race or fail it). */
function withTxn(store: Store, txn: (ops: readonly TxnOp[]) => Promise<KeyValue[]>): Store {
  return new Proxy(store, {
    get: (target, prop) => {
      if (prop === 'txn') return txn;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function storeWithNamespaces(...names: string[]) {
  const store = await openSqliteStore({ file: ':memory:', log: silentLogger() });
  for (const ns of names) await store.create(nsKey(ns), Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: `ns-${ns}` }, status: { phase: 'Active' } })));
  return store;
}

describe('event batch', () => {
  it('creates the Events of one window in one transaction, as the API would store them', async () => {
    const store = await storeWithNamespaces('default', 'shop');
    try {
      const txns: (readonly TxnOp[])[] = [];
      const counted = withTxn(store, (ops) => (txns.push(ops), store.txn(ops)));
      const batch = eventBatch(counted, { windowMs: 50, now: () => new Date('2026-12-07T20:00:01.250Z') });
      const before = await store.currentRevision();
      await Promise.all([
        batch.create('n1', event('default', 'web-1', 'Pulled')),
        batch.create('n1', event('default', 'web-1', 'Created')),
        batch.create('n2', event('shop', 'cart-1', 'Started')),
        batch.create('n2', event('', 'n2', 'NodeReady')),
      ]);
      expect(txns.length).toBe(1);
      expect(txns[0]!.map((op) => op.op)).toEqual(['create', 'create', 'create', 'create']);
      expect(await store.currentRevision()).toBe(before + 4);
      const stored = (await store.list('/registry/events/')).kvs.map((kv) => ({ kv, obj: JSON.parse(kv.value.toString()) }));
      expect(stored.map((s) => `${s.obj.metadata.namespace}/${s.obj.reason}`).sort()).toEqual(['default/Created', 'default/NodeReady', 'default/Pulled', 'shop/Started']);
      const started = stored.find((s) => s.obj.reason === 'Started')!;
      expect(started.obj).toMatchObject({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { namespace: 'shop', creationTimestamp: '2026-12-07T20:00:01Z' },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'cart-1', uid: 'uid-cart-1' },
        source: { component: 'kubelet', host: 'n2' },
        reportingComponent: 'kubelet',
        reportingInstance: 'n2',
        count: 1,
        firstTimestamp: '2026-12-07T20:00:00Z',
      });
      expect(started.obj.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(started.obj.metadata.resourceVersion).toBeUndefined();
      expect(started.obj.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'edgeos-agent', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1' })]);
      expect(started.obj.metadata.managedFields[0].fieldsV1).toHaveProperty(['f:reason']);
      // Events expire an hour after they were written, as the API stores them.
      expect(started.kv.expiresAt! - Date.now()).toBeGreaterThan(3590_000);
      await batch.close();
    } finally {
      await store.close();
    }
  });

  it('refuses an Event in a namespace that does not exist or is terminating; the others land', async () => {
    const store = await storeWithNamespaces('default');
    await store.create(nsKey('leaving'), Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'leaving', deletionTimestamp: '2026-12-07T19:00:00Z' }, status: { phase: 'Terminating' } })));
    try {
      const batch = eventBatch(store, { windowMs: 20 });
      const results = await Promise.allSettled([batch.create('n1', event('default', 'a', 'Pulled')), batch.create('n1', event('gone', 'b', 'Pulled')), batch.create('n1', event('leaving', 'c', 'Pulled'))]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
      const [, gone, leaving] = results.map((r) => (r as PromiseRejectedResult).reason as LinkError);
      expect(gone).toBeInstanceOf(LinkError);
      expect(gone!.code).toBe(LinkErrorCode.LINK_REFUSED);
      expect(gone!.message).toContain('namespaces "gone" not found');
      expect(leaving!.code).toBe(LinkErrorCode.LINK_REFUSED);
      expect(leaving!.message).toContain('because it is being terminated');
      expect((await store.list('/registry/events/')).kvs.length).toBe(1);
      await batch.close();
    } finally {
      await store.close();
    }
  });

  it('writes the batch one by one when a name was taken meanwhile: only that Event fails', async () => {
    const store = await storeWithNamespaces('default');
    try {
      let txns = 0;
      const racing = withTxn(store, async (ops) => {
        // Someone else creates the "taken" Event's key just before our first commit.
        if (txns++ === 0) {
          const taken = ops.find((op) => op.op === 'create' && op.value.toString().includes('"reason":"Taken"'));
          if (taken) await store.create(taken.key, Buffer.from('{"by":"someone"}'));
        }
        return store.txn(ops);
      });
      const batch = eventBatch(racing, { windowMs: 20 });
      const results = await Promise.allSettled([batch.create('n1', event('default', 'a', 'Pulled')), batch.create('n1', event('default', 'b', 'Taken')), batch.create('n1', event('default', 'c', 'Started'))]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(((results[1] as PromiseRejectedResult).reason as LinkError).code).toBe(LinkErrorCode.LINK_REFUSED);
      // The first (failed) transaction, then one per Event.
      expect(txns).toBe(4);
      const reasons = (await store.list('/registry/events/')).kvs.map((kv) => (JSON.parse(kv.value.toString()) as { reason?: string; by?: string }).reason ?? 'someone');
      expect(reasons.sort()).toEqual(['Pulled', 'Started', 'someone']);
      await batch.close();
    } finally {
      await store.close();
    }
  });

  it('answers a store that is away as busy (the agent sends the Event again)', async () => {
    const store = await storeWithNamespaces('default');
    try {
      const away = withTxn(store, () => Promise.reject(new Error('database is locked')));
      const batch = eventBatch(away, { windowMs: 10 });
      const err = (await batch.create('n1', event('default', 'a', 'Pulled')).catch((e: unknown) => e)) as LinkError;
      expect(err.code).toBe(LinkErrorCode.LINK_BUSY);
      await batch.close();
    } finally {
      await store.close();
    }
  });
});
