/**
 * The conformance suite every Store backend must pass (SQLite now, PostgreSQL for HA later). A
 * backend test file calls describeStoreConformance with a factory; every skip must state its reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  InvalidKeyError,
  KeyExistsError,
  MAX_VALUE_BYTES,
  NotFoundError,
  ValueTooLargeError,
} from '../../src/store/index.ts';
import type { Store, WatchEvent, WatchMessage } from '../../src/store/index.ts';

export interface StoreFixture {
  store: Store;
  /** Closes the store and removes what the factory created. */
  cleanup(): Promise<void>;
}

export interface FactoryOptions {
  progressIntervalMs?: number;
  ttlSweepIntervalMs?: number;
}

const b = (s: string) => Buffer.from(s);
const str = (v: Buffer | undefined) => v?.toString();

/** Collects watch messages and lets a test wait for a condition on them. */
export class WatchRecorder {
  readonly messages: WatchMessage[] = [];
  readonly onMessage = (m: WatchMessage) => void this.messages.push(m);

  get events(): WatchEvent[] {
    return this.messages.flatMap((m) => (m.kind === 'events' ? [...m.events] : []));
  }

  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.summary())}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  summary(): string[] {
    return this.messages.map((m) =>
      m.kind === 'events'
        ? m.events.map((e) => `${e.type} ${e.kv.key}@${e.kv.modRevision}`).join(',')
        : m.kind === 'progress'
          ? `progress@${m.revision}`
          : `error ${m.error.code}`,
    );
  }
}

export function describeStoreConformance(name: string, factory: (opts?: FactoryOptions) => Promise<StoreFixture>): void {
  describe(`Store conformance: ${name}`, () => {
    let fx: StoreFixture | undefined;
    const open = async (opts?: FactoryOptions) => {
      fx = await factory(opts);
      return fx.store;
    };
    afterEach(async () => {
      await fx?.cleanup();
      fx = undefined;
    });

    describe('revisions and single-key writes', () => {
      it('starts empty at revision 0 and gives every write the next revision', async () => {
        const s = await open();
        expect(await s.currentRevision()).toBe(0);
        const a = await s.create('/r/a', b('1'));
        const c = await s.update('/r/a', b('2'));
        const d = await s.delete('/r/a');
        expect([a.modRevision, c.modRevision, d.modRevision]).toEqual([1, 2, 3]);
        expect(await s.currentRevision()).toBe(3);
      });

      it('create fails with KeyExistsError when the key exists, and works again after delete', async () => {
        const s = await open();
        const first = await s.create('/r/a', b('1'));
        await expect(s.create('/r/a', b('x'))).rejects.toBeInstanceOf(KeyExistsError);
        expect(await s.currentRevision()).toBe(1); // a failed write uses no revision
        await s.delete('/r/a');
        const again = await s.create('/r/a', b('2'));
        expect(again.createRevision).toBe(again.modRevision);
        expect(again.createRevision).toBeGreaterThan(first.createRevision);
      });

      it('update keeps createRevision and moves modRevision', async () => {
        const s = await open();
        const a = await s.create('/r/a', b('1'));
        const u = await s.update('/r/a', b('2'));
        expect(u.createRevision).toBe(a.createRevision);
        expect(u.modRevision).toBe(a.modRevision + 1);
        expect(str((await s.get('/r/a'))?.value)).toBe('2');
      });

      it('update and delete of a missing key fail with NotFoundError', async () => {
        const s = await open();
        await expect(s.update('/r/none', b('1'))).rejects.toBeInstanceOf(NotFoundError);
        await expect(s.delete('/r/none')).rejects.toBeInstanceOf(NotFoundError);
        await s.create('/r/gone', b('1'));
        await s.delete('/r/gone');
        await expect(s.update('/r/gone', b('2'))).rejects.toBeInstanceOf(NotFoundError);
      });

      it('compare-and-swap on modRevision: a stale revision gets a ConflictError naming both', async () => {
        const s = await open();
        const a = await s.create('/r/a', b('1'));
        await s.update('/r/a', b('2'), { expectedModRevision: a.modRevision });
        const err = await s.update('/r/a', b('3'), { expectedModRevision: a.modRevision }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).expected).toBe(a.modRevision);
        expect((err as ConflictError).actual).toBe(a.modRevision + 1);
        await expect(s.delete('/r/a', { expectedModRevision: a.modRevision })).rejects.toBeInstanceOf(ConflictError);
        expect(str((await s.get('/r/a'))?.value)).toBe('2');
      });

      it('delete returns the last value at the revision of the delete', async () => {
        const s = await open();
        await s.create('/r/a', b('last'));
        const d = await s.delete('/r/a');
        expect(str(d.value)).toBe('last');
        expect(d.modRevision).toBe(2);
        expect(await s.get('/r/a')).toBeUndefined();
      });
    });

    describe('reads at a revision', () => {
      it('get reads the value as of a past revision, and not a future one', async () => {
        const s = await open();
        await s.create('/r/a', b('v1'));
        await s.update('/r/a', b('v2'));
        await s.delete('/r/a');
        expect(str((await s.get('/r/a', { revision: 1 }))?.value)).toBe('v1');
        expect(str((await s.get('/r/a', { revision: 2 }))?.value)).toBe('v2');
        expect(await s.get('/r/a', { revision: 3 })).toBeUndefined();
        await expect(s.get('/r/a', { revision: 99 })).rejects.toBeInstanceOf(FutureRevisionError);
      });

      it('list returns keys under a prefix in key order, not keys that merely share characters', async () => {
        const s = await open();
        for (const k of ['/p/b', '/p/a', '/p/c/d', '/pq/x', '/p', '/o/z']) await s.create(k, b(k));
        const r = await s.list('/p/');
        expect(r.kvs.map((kv) => kv.key)).toEqual(['/p/a', '/p/b', '/p/c/d']);
        expect(r.revision).toBe(6);
        expect(r.more).toBe(false);
        expect((await s.list('')).kvs).toHaveLength(6);
        expect(await s.count('/p/')).toBe(3);
      });

      it('paginates with limit and startAfter, every page consistent at the first page revision', async () => {
        const s = await open();
        for (let i = 0; i < 25; i++) await s.create(`/page/${String(i).padStart(2, '0')}`, b(`v${i}`));
        const first = await s.list('/page/', { limit: 10 });
        expect(first.kvs).toHaveLength(10);
        expect(first.more).toBe(true);
        // Writes between pages must not show in later pages read at the first page's revision.
        await s.create('/page/99', b('late'));
        await s.update('/page/15', b('changed'));
        await s.delete('/page/20');
        const keys = first.kvs.map((kv) => kv.key);
        let last = first;
        while (last.more) {
          last = await s.list('/page/', { limit: 10, startAfter: keys[keys.length - 1], revision: first.revision });
          keys.push(...last.kvs.map((kv) => kv.key));
          if (last.kvs.some((kv) => kv.key === '/page/15')) {
            expect(str(last.kvs.find((kv) => kv.key === '/page/15')?.value)).toBe('v15');
          }
        }
        expect(keys).toHaveLength(25);
        expect(keys).toContain('/page/20');
        expect(keys).not.toContain('/page/99');
        const now = await s.list('/page/');
        expect(now.kvs).toHaveLength(25); // 25 + 1 created - 1 deleted
        expect(now.kvs.map((kv) => kv.key)).toContain('/page/99');
      });

      it('lists at a past revision', async () => {
        const s = await open();
        await s.create('/h/a', b('1'));
        await s.create('/h/b', b('1'));
        await s.delete('/h/a');
        expect((await s.list('/h/', { revision: 2 })).kvs.map((kv) => kv.key)).toEqual(['/h/a', '/h/b']);
        expect((await s.list('/h/')).kvs.map((kv) => kv.key)).toEqual(['/h/b']);
      });
    });

    describe('transactions', () => {
      it('commits all operations with consecutive revisions', async () => {
        const s = await open();
        await s.create('/t/existing', b('0'));
        const out = await s.txn([
          { op: 'create', key: '/t/a', value: b('a') },
          { op: 'update', key: '/t/existing', value: b('1'), expectedModRevision: 1 },
          { op: 'delete', key: '/t/a' },
        ]);
        expect(out.map((kv) => kv.modRevision)).toEqual([2, 3, 4]);
        expect(await s.get('/t/a')).toBeUndefined();
        expect(str((await s.get('/t/existing'))?.value)).toBe('1');
      });

      it('applies nothing when one operation fails', async () => {
        const s = await open();
        await s.create('/t/x', b('0'));
        await expect(
          s.txn([
            { op: 'create', key: '/t/new', value: b('n') },
            { op: 'update', key: '/t/x', value: b('1'), expectedModRevision: 99 },
          ]),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await s.get('/t/new')).toBeUndefined();
        expect(await s.currentRevision()).toBe(1);
        // and the next write continues with the next revision
        expect((await s.create('/t/y', b('y'))).modRevision).toBe(2);
      });
    });

    describe('bad input', () => {
      it('rejects malformed keys with InvalidKeyError', async () => {
        const s = await open();
        for (const k of ['', 'no-slash', '/with space', '/tab\there', '/nul\0', '/é', '/' + 'x'.repeat(5000)]) {
          await expect(s.create(k, b('1')), JSON.stringify(k)).rejects.toBeInstanceOf(InvalidKeyError);
        }
        await expect(s.list('bad prefix')).rejects.toBeInstanceOf(InvalidKeyError);
      });

      it('rejects values over the 1.5 MiB limit, and accepts one at the limit', async () => {
        const s = await open();
        const err = await s.create('/big', Buffer.alloc(MAX_VALUE_BYTES + 1)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValueTooLargeError);
        expect((err as Error).message).toMatch(/1572865 bytes, over the 1572864-byte limit/);
        await s.create('/big', Buffer.alloc(MAX_VALUE_BYTES));
        expect((await s.get('/big'))?.value.length).toBe(MAX_VALUE_BYTES);
      });

      it('rejects a non-positive TTL', async () => {
        const s = await open();
        await expect(s.create('/ttl', b('1'), { ttlSeconds: 0 })).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(s.create('/ttl', b('1'), { ttlSeconds: -5 })).rejects.toBeInstanceOf(InvalidKeyError);
      });
    });

    describe('watch', () => {
      it('delivers live events under the prefix with the previous value', async () => {
        const s = await open();
        const rec = new WatchRecorder();
        const w = s.watch('/w/', { fromRevision: 0 }, rec.onMessage);
        await s.create('/w/a', b('1'));
        await s.create('/other', b('x'));
        await s.update('/w/a', b('2'));
        await s.delete('/w/a');
        await rec.until(() => rec.events.length === 3, '3 events');
        const [added, modified, deleted] = rec.events;
        expect([added!.type, modified!.type, deleted!.type]).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
        expect(added!.prevKv).toBeUndefined();
        expect(str(modified!.prevKv?.value)).toBe('1');
        expect(str(modified!.kv.value)).toBe('2');
        expect(str(deleted!.prevKv?.value)).toBe('2');
        expect(deleted!.kv.modRevision).toBe(4);
        w.close();
        await s.create('/w/after-close', b('x'));
        await new Promise((r) => setTimeout(r, 50));
        expect(rec.events).toHaveLength(3);
      });

      it('replays history after fromRevision, then continues live without a gap or duplicate', async () => {
        const s = await open();
        for (let i = 0; i < 2500; i++) await s.create(`/rp/${i}`, b(String(i)));
        const rec = new WatchRecorder();
        const w = s.watch('/rp/', { fromRevision: 100 }, rec.onMessage);
        expect(w.startRevision).toBe(100);
        // Writes while the replay is in progress.
        for (let i = 0; i < 50; i++) await s.update(`/rp/${i}`, b('live'));
        await rec.until(() => rec.events.length === 2400 + 50, 'replay + live');
        const revs = rec.events.map((e) => e.kv.modRevision);
        expect(revs[0]).toBe(101);
        for (let i = 1; i < revs.length; i++) expect(revs[i]).toBe(revs[i - 1]! + 1);
        expect(rec.events.slice(-50).every((e) => e.type === 'MODIFIED' && str(e.prevKv?.value) !== undefined)).toBe(true);
        w.close();
      });

      it('stops on abort', async () => {
        const s = await open();
        const ac = new AbortController();
        const rec = new WatchRecorder();
        s.watch('/ab/', { fromRevision: 0, signal: ac.signal }, rec.onMessage);
        await s.create('/ab/1', b('1'));
        await rec.until(() => rec.events.length === 1, 'first event');
        ac.abort();
        await s.create('/ab/2', b('2'));
        await new Promise((r) => setTimeout(r, 50));
        expect(rec.events).toHaveLength(1);
      });

      it('sends progress notifications to idle watches', async () => {
        const s = await open({ progressIntervalMs: 100 });
        await s.create('/busy/a', b('1'));
        const rec = new WatchRecorder();
        s.watch('/idle/', { fromRevision: 0 }, rec.onMessage);
        await s.create('/busy/b', b('2'));
        await rec.until(() => rec.messages.some((m) => m.kind === 'progress' && m.revision >= 2), 'a bookmark at revision 2');
        expect(rec.events).toHaveLength(0);
      });

      it('a watch from a compacted revision fails with CompactedError; from the compact revision it works', async () => {
        const s = await open();
        for (let i = 0; i < 10; i++) await s.update('/c/k', b(String(i))).catch(() => s.create('/c/k', b(String(i))));
        await s.compact(6);
        expect(await s.compactRevision()).toBe(6);
        expect(() => s.watch('/c/', { fromRevision: 3 }, () => {})).toThrow(CompactedError);
        await expect(s.get('/c/k', { revision: 3 })).rejects.toBeInstanceOf(CompactedError);
        await expect(s.list('/c/', { revision: 5 })).rejects.toBeInstanceOf(CompactedError);
        const rec = new WatchRecorder();
        s.watch('/c/', { fromRevision: 6 }, rec.onMessage);
        await rec.until(() => rec.events.length === 4, 'events 7..10');
        expect(rec.events.map((e) => e.kv.modRevision)).toEqual([7, 8, 9, 10]);
        expect(str((await s.get('/c/k'))?.value)).toBe('9');
        expect(str((await s.get('/c/k', { revision: 6 }))?.value)).toBe('5');
      });
    });

    describe('compaction', () => {
      it('keeps the latest value of every key and drops deleted keys and superseded history', async () => {
        const s = await open();
        await s.create('/k/keep', b('0'));
        for (let i = 1; i <= 20; i++) await s.update('/k/keep', b(String(i)));
        await s.create('/k/gone', b('x'));
        await s.delete('/k/gone');
        await s.create('/k/recreated', b('a'));
        await s.delete('/k/recreated');
        await s.create('/k/recreated', b('b'));
        const rev = await s.currentRevision();
        await s.compact(rev);
        expect((await s.list('/k/')).kvs.map((kv) => `${kv.key}=${str(kv.value)}`)).toEqual(['/k/keep=20', '/k/recreated=b']);
        const st = await s.stats();
        expect(st.rows).toBe(2);
        // compaction never reuses revisions
        expect((await s.create('/k/new', b('n'))).modRevision).toBe(rev + 1);
      });
    });

    describe('TTL', () => {
      it('a key written with a TTL deletes itself, and watchers see the delete', async () => {
        const s = await open({ ttlSweepIntervalMs: 100 });
        const rec = new WatchRecorder();
        s.watch('/ttl/', { fromRevision: 0 }, rec.onMessage);
        const kv = await s.create('/ttl/event', b('e'), { ttlSeconds: 1 });
        expect(kv.expiresAt).toBeGreaterThan(Date.now());
        await s.create('/ttl/forever', b('f'));
        await rec.until(() => rec.events.some((e) => e.type === 'DELETED'), 'the TTL delete', 15_000);
        expect(await s.get('/ttl/event')).toBeUndefined();
        expect(await s.get('/ttl/forever')).toBeDefined();
      });

      it('an update without a TTL makes the key permanent', async () => {
        const s = await open({ ttlSweepIntervalMs: 100 });
        await s.create('/ttl/x', b('1'), { ttlSeconds: 1 });
        await s.update('/ttl/x', b('2'));
        await new Promise((r) => setTimeout(r, 1500));
        expect(str((await s.get('/ttl/x'))?.value)).toBe('2');
      });
    });
  });
}
