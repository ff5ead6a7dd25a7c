// The Lease is written at the store cadence (20 s) while renewals on the link (every 10 s) are
// all acked; a new link, or a changed duration, writes at once.
import { describe, expect, it } from 'vitest';
import { leaseBatch } from '../../src/server/link/lease-batch.ts';
import { leaseAtStoreCadence } from '../../src/server/link/lease-cadence.ts';
import { ConflictError } from '../../src/store/errors.ts';
import { leaseRenewalsInStore } from '../../src/server/link/lease-store.ts';
import { nodeWrites } from '../../src/server/link/node-writes.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import { silentLogger } from '../../src/common/log.ts';
import { serverProcess } from './harness.ts';
import type { NodeWrites } from '../../src/server/link/types.ts';

function recorder(): { writes: NodeWrites; leases: number[] } {
  const leases: number[] = [];
  const never = () => Promise.reject(new Error('not used'));
  return {
    leases,
    writes: { register: never, podStatus: never, podTerminated: never, nodeStatus: never, event: never, serviceAccountToken: never, volumeReleased: never, renewLease: async (d) => void leases.push(d) },
  };
}

describe('lease store cadence', () => {
  it('writes every other 10 s beat, the first at once', async () => {
    let now = 0;
    const r = recorder();
    const w = leaseAtStoreCadence(r.writes, 20_000, () => now);
    const written: number[] = [];
    for (let beat = 0; beat <= 12; beat++) {
      now = beat * 10_000 + (beat % 3) * 150; // timers drift a little
      const before = r.leases.length;
      await w.renewLease(40);
      if (r.leases.length > before) written.push(beat);
    }
    expect(written).toEqual([0, 2, 4, 6, 8, 10, 12]);
  });

  it('writes a changed duration at once, and a failed write is tried again next beat', async () => {
    let now = 0;
    const r = recorder();
    let fail = false;
    const w = leaseAtStoreCadence({ ...r.writes, renewLease: (d) => (fail ? Promise.reject(new Error('store away')) : r.writes.renewLease(d)) }, 20_000, () => now);
    await w.renewLease(40);
    now = 10_000;
    await w.renewLease(30);
    expect(r.leases).toEqual([40, 30]);
    now = 30_000;
    fail = true;
    await expect(w.renewLease(30)).rejects.toThrow('store away');
    fail = false;
    now = 40_000;
    await w.renewLease(30);
    expect(r.leases).toEqual([40, 30, 30]);
  });
});

describe('lease writes', () => {
  it('renews the Lease its last write left without reading it first; one changed meanwhile is read again', async () => {
    const server = await serverProcess();
    try {
      const calls: string[] = [];
      const w = nodeWrites('lease-node', {
        request: async (method, path, body) => {
          calls.push(method);
          return server.api(method, path, body);
        },
      });
      await w.renewLease(40);
      await w.renewLease(40);
      await w.renewLease(40);
      // Created (after a read that found none), then two renewals of one request each, not a read and a write.
      expect(calls).toEqual(['GET', 'POST', 'PUT', 'PUT']);
      const path = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/lease-node';
      expect((await server.api('PATCH', path, { metadata: { labels: { changed: 'elsewhere' } } })).status).toBe(200);
      calls.length = 0;
      await w.renewLease(30);
      // The write on the old resourceVersion is refused (409): read, then written.
      expect(calls).toEqual(['PUT', 'GET', 'PUT']);
      const lease = (await server.api('GET', path)).body as { metadata: { labels?: Record<string, string> }; spec: { leaseDurationSeconds: number; holderIdentity: string } };
      expect(lease.metadata.labels?.changed).toBe('elsewhere');
      expect(lease.spec).toMatchObject({ leaseDurationSeconds: 30, holderIdentity: 'lease-node' });
    } finally {
      await server.dispose();
    }
  }, 90_000);
});

describe('lease renewals in the store', () => {
  it('writes renewals after the first straight to the store, on condition of its revision; a Lease changed meanwhile goes through the API again', async () => {
    const store = await openSqliteStore({ file: ':memory:', log: silentLogger() });
    try {
      const key = '/registry/leases.coordination.k8s.io/kube-node-lease/n1';
      // The API's renewal, as node-writes does it (here: the stored form of a new or re-read Lease).
      let throughApi = 0;
      const api = async (durationSeconds: number) => {
        throughApi++;
        const cur = await store.get(key);
        const lease = cur ? (JSON.parse(cur.value.toString()) as { spec: Record<string, unknown> }) : { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease', uid: 'u1' }, spec: {} };
        lease.spec = { ...lease.spec, holderIdentity: 'n1', leaseDurationSeconds: durationSeconds, renewTime: 'api' };
        if (cur) await store.update(key, Buffer.from(JSON.stringify(lease)), { expectedModRevision: cur.modRevision });
        else await store.create(key, Buffer.from(JSON.stringify(lease)));
      };
      let t = Date.parse('2026-12-07T15:00:00Z');
      const w = leaseRenewalsInStore({ ...recorder().writes, renewLease: api }, store, 'n1', () => new Date(t));
      const spec = async () => (JSON.parse((await store.get(key))!.value.toString()) as { metadata: { uid: string }; spec: Record<string, unknown> });
      await w.renewLease(40);
      expect(throughApi).toBe(1);
      const r1 = (await store.get(key))!.modRevision;
      t += 10_000;
      await w.renewLease(40);
      t += 10_000;
      await w.renewLease(30);
      expect(throughApi).toBe(1);
      expect((await store.get(key))!.modRevision).toBe(r1 + 2);
      expect(await spec()).toMatchObject({ metadata: { uid: 'u1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 30, renewTime: '2026-12-07T15:00:20.000000Z' } });
      // Someone else changes the Lease: the next renewal's condition fails and the API renews it.
      const other = JSON.parse((await store.get(key))!.value.toString()) as { metadata: Record<string, unknown> };
      other.metadata.labels = { by: 'someone' };
      await store.update(key, Buffer.from(JSON.stringify(other)));
      await w.renewLease(30);
      expect(throughApi).toBe(2);
      expect(await spec()).toMatchObject({ metadata: { labels: { by: 'someone' } }, spec: { renewTime: 'api' } });
      // And the renewal after that is the store's again, keeping the other writer's change.
      t += 10_000;
      await w.renewLease(30);
      expect(throughApi).toBe(2);
      expect(await spec()).toMatchObject({ metadata: { labels: { by: 'someone' } }, spec: { renewTime: '2026-12-07T15:00:30.000000Z' } });
    } finally {
      await store.close();
    }
  });
});

describe('lease batch', () => {
  it('writes the renewals of one window in one transaction; a Lease changed meanwhile fails alone', async () => {
    const store = await openSqliteStore({ file: ':memory:', log: silentLogger() });
    try {
      const key = (n: number) => `/registry/leases.coordination.k8s.io/kube-node-lease/n${n}`;
      const revs: number[] = [];
      for (let n = 0; n < 5; n++) revs.push((await store.create(key(n), Buffer.from(`{"n":${n}}`))).modRevision);
      let txns = 0;
      let updates = 0;
      const counted: typeof store = Object.assign(Object.create(store) as typeof store, {
        txn: (ops: Parameters<typeof store.txn>[0]) => (txns++, store.txn(ops)),
        update: (...a: Parameters<typeof store.update>) => (updates++, store.update(...a)),
      });
      const batch = leaseBatch(counted, { windowMs: 50 });
      const before = await store.currentRevision();
      const kvs = await Promise.all(revs.map((rev, n) => batch.update(key(n), Buffer.from(`{"n":${n},"r":1}`), rev)));
      expect(txns).toBe(1);
      expect(updates).toBe(0);
      expect(kvs.map((kv) => kv.modRevision)).toEqual([1, 2, 3, 4, 5].map((i) => before + i));
      expect((await store.get(key(3)))!.value.toString()).toBe('{"n":3,"r":1}');
      // n2 is changed by someone else: its condition fails, the other four still land.
      await store.update(key(2), Buffer.from('{"n":2,"by":"someone"}'));
      const results = await Promise.allSettled(kvs.map((kv, n) => batch.update(key(n), Buffer.from(`{"n":${n},"r":2}`), kv.modRevision)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      expect((await store.get(key(2)))!.value.toString()).toBe('{"n":2,"by":"someone"}');
      expect((await store.get(key(4)))!.value.toString()).toBe('{"n":4,"r":2}');
      await batch.close();
    } finally {
      await store.close();
    }
  });
});
