/**
 * The watch-fed cache of Namespaces and ServiceAccounts (src/server/storage/watch-cache.ts) on a
 * real SQLite store: reads of keys it holds cost no store read; a key it has not seen is read from
 * the store at once (created a moment ago elsewhere); another writer's changes arrive with the
 * watch; this server's own writes are read back at once, before the watch has delivered them; a
 * prefix it does not cache always reads the store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { WatchCache } from '../../../src/server/storage/watch-cache.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { SqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/types.ts';

const NS = '/registry/namespaces/';
const SA = '/registry/serviceaccounts/';
const value = (s: string) => Buffer.from(JSON.stringify({ v: s }));
const read = (kv: { value: Buffer } | undefined) => (kv ? (JSON.parse(kv.value.toString('utf8')) as { v: string }).v : undefined);

/** `store` whose get() calls are counted: how many reads the cache sent to it. */
function counting(store: Store): { store: Store; gets: () => number } {
  let gets = 0;
  return {
    store: new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'get') return (...args: Parameters<Store['get']>) => (gets++, target.get(...args));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }),
    gets: () => gets,
  };
}

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let raw: SqliteStore;
let counted: ReturnType<typeof counting>;
let cache: WatchCache;
beforeEach(async () => {
  raw = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 100 });
  await raw.create(`${NS}old`, value('old'));
  await raw.create(`${SA}old/default`, value('sa'));
  counted = counting(raw);
  cache = new WatchCache(counted.store, [NS, SA], silentLogger());
  cache.start();
  await eventually(() => cache.synced(NS) && cache.synced(SA), 'the cache to list');
});
afterEach(async () => {
  cache.close();
  await raw.close();
});

describe('WatchCache', () => {
  it('serves keys it holds from memory, and keys it has not seen from the store', async () => {
    const before = counted.gets();
    expect(read(await cache.get(`${NS}old`))).toBe('old');
    expect(read(await cache.get(`${SA}old/default`))).toBe('sa');
    expect(counted.gets()).toBe(before);
    // Written by "another server" (straight into the store) and read before the watch could deliver it.
    await raw.create(`${NS}new`, value('new'));
    expect(read(await cache.get(`${NS}new`))).toBe('new');
    expect(counted.gets()).toBe(before + 1);
    // Absent everywhere: a store read that finds nothing.
    expect(await cache.get(`${NS}missing`)).toBeUndefined();
    // A prefix the cache does not hold always reads the store.
    await raw.create('/registry/configmaps/old/x', value('cm'));
    expect(read(await cache.get('/registry/configmaps/old/x'))).toBe('cm');
    expect(counted.gets()).toBe(before + 3);
    // Once the watch delivered it, the new key is in memory too.
    await eventually(async () => {
      const n = counted.gets();
      return read(await cache.get(`${NS}new`)) === 'new' && counted.gets() === n;
    }, 'the watch to deliver the new namespace');
  });

  it("follows another writer's updates and deletes as its watch delivers them", async () => {
    const old = (await raw.get(`${NS}old`))!;
    await raw.update(`${NS}old`, value('terminating'), { expectedModRevision: old.modRevision });
    await eventually(async () => read(await cache.get(`${NS}old`)) === 'terminating', 'the update');
    await raw.delete(`${NS}old`);
    await eventually(async () => (await cache.get(`${NS}old`)) === undefined, 'the delete');
    // Gone from memory: the read that says so is the store's.
    const n = counted.gets();
    expect(await cache.get(`${NS}old`)).toBeUndefined();
    expect(counted.gets()).toBe(n + 1);
  });

  it("reads this server's own writes back at once, before its watch has delivered them", async () => {
    const through = cache.noteWritesOf(raw);
    const old = (await raw.get(`${NS}old`))!;
    for (let i = 0; i < 20; i++) {
      // Nothing yields to the event loop between the write's answer and the read, so the watch
      // (delivered on a later turn) cannot have brought it: only the noted write sends it to the store.
      const [kv] = await through.txn([{ op: 'update', key: `${NS}old`, value: value(`v${i}`), ...(i === 0 ? { expectedModRevision: old.modRevision } : {}) }]);
      expect(kv!.modRevision).toBeGreaterThan(old.modRevision);
      expect(read(await cache.get(`${NS}old`))).toBe(`v${i}`);
    }
    await through.delete(`${SA}old/default`);
    expect(await cache.get(`${SA}old/default`)).toBeUndefined();
    // Once the watch has delivered them, the reads are from memory again.
    await eventually(async () => {
      const n = counted.gets();
      return read(await cache.get(`${NS}old`)) === 'v19' && counted.gets() === n;
    }, 'the watch to catch up with the writes');
  });
});
