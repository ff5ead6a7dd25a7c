// Values the store publishes own their memory: a small written Buffer is a view of a shared pool
// slab (64 KiB on Node 24), and a watcher that keeps it would pin the whole slab (own-bytes.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownBytes } from '../../src/common/own-bytes.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { KeyValue, Store } from '../../src/store/index.ts';

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:' });
});
afterAll(async () => {
  await store.close();
});

const owns = (b: Buffer) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;

describe('published values', () => {
  it('a written pool Buffer is published and returned in memory of its own, same bytes', async () => {
    const seen: KeyValue[] = [];
    const w = store.watch('/owned/', { fromRevision: 0 }, (m) => {
      if (m.kind === 'events') for (const e of m.events) seen.push(e.kv);
    });
    const written = Buffer.from('{"small":true}');
    expect(owns(written)).toBe(false);
    const created = await store.create('/owned/a', written);
    const updated = await store.update('/owned/a', Buffer.from('{"small":false}'), { expectedModRevision: created.modRevision });
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    w.close();
    expect(seen.map((kv) => kv.value.toString())).toEqual(['{"small":true}', '{"small":false}']);
    for (const kv of [created, updated, ...seen]) expect(owns(kv.value)).toBe(true);
  });

  it('ownBytes copies a view and returns an owning Buffer as it is', () => {
    const view = Buffer.from('abc');
    const own = ownBytes(view);
    expect(own).not.toBe(view);
    expect(own.toString()).toBe('abc');
    expect(owns(own)).toBe(true);
    expect(ownBytes(own)).toBe(own);
  });
});
