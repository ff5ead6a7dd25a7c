// Group commit on PostgreSQL (src/store/postgres/write-batcher.ts): concurrent writes of one server
// (single-key ones and txn()s, as the API writes) share transactions, yet each keeps its own
// revisions and its own checks — a failing one fails alone and whole — and the revisions stay
// gap-free and in order for every watch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, KeyExistsError, NotFoundError, openPostgresStore, parseEndpoint } from '../../src/store/index.ts';
import type { KeyValue, PostgresStore } from '../../src/store/index.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import { WatchRecorder } from './conformance.ts';

let pg: TestPostgres;
let db: string;
let store: PostgresStore;
beforeAll(async () => {
  pg = await startPostgres();
  db = await pg.createDatabase('group');
  store = await openPostgresStore({ endpoint: parseEndpoint(pg.url(db), '--datastore-endpoint'), compactIntervalMs: 3_600_000 });
});
afterAll(async () => {
  await store?.close();
  await pg?.destroy();
});

const b = (s: string) => Buffer.from(s);
const commits = () => Number(pg.psql(db, `SELECT xact_commit FROM pg_stat_database WHERE datname = '${db}'`));

describe('postgres store: group commit of concurrent single-key writes', () => {
  it('shares transactions, fails only the writes whose checks fail, and keeps revisions gap-free and ordered', async () => {
    const existing = await store.create('/g/existing', b('0'));
    const counter = await store.create('/g/counter', b('0'));
    const start = await store.currentRevision();
    const rec = new WatchRecorder();
    const watch = store.watch('/g/', { fromRevision: start }, rec.onMessage);
    const before = commits();

    type Outcome = { ok: KeyValue } | { err: unknown };
    const settle = (p: Promise<KeyValue>): Promise<Outcome> => p.then((ok) => ({ ok }), (err: unknown) => ({ err }));
    const outcomes = await Promise.all([
      ...Array.from({ length: 60 }, (_, i) => settle(store.create(`/g/new-${i}`, b(String(i))))),
      settle(store.create('/g/existing', b('again'))),
      settle(store.update('/g/missing', b('x'))),
      settle(store.delete('/g/existing', { expectedModRevision: existing.modRevision + 1000 })),
      // Two compare-and-swaps of one key from the same revision: the first wins, the second conflicts.
      settle(store.update('/g/counter', b('1'), { expectedModRevision: counter.modRevision })),
      settle(store.update('/g/counter', b('1'), { expectedModRevision: counter.modRevision })),
    ]);
    const transactions = commits() - before;

    const failures = outcomes.filter((o): o is { err: unknown } => 'err' in o).map((o) => o.err);
    expect(failures).toHaveLength(4);
    expect(failures.filter((e) => e instanceof KeyExistsError)).toHaveLength(1);
    expect(failures.filter((e) => e instanceof NotFoundError)).toHaveLength(1);
    expect(failures.filter((e) => e instanceof ConflictError)).toHaveLength(2);
    expect(outcomes[63]).toHaveProperty('ok'); // the first compare-and-swap of /g/counter
    expect(outcomes[64]).toHaveProperty('err');

    // 61 writes succeeded: exactly the next 61 revisions, none used twice, none skipped.
    const revisions = outcomes.filter((o): o is { ok: KeyValue } => 'ok' in o).map((o) => o.ok.modRevision).sort((x, y) => x - y);
    expect(revisions).toEqual(Array.from({ length: 61 }, (_, i) => start + 1 + i));
    expect(await store.currentRevision()).toBe(start + 61);
    // Fewer transactions than writes: they were grouped (the failed batches roll back and count as none).
    expect(transactions).toBeLessThan(61);

    await rec.until(() => rec.events.length >= 61, 'every write on the watch');
    expect(rec.events.map((e) => e.kv.modRevision)).toEqual(revisions);
    watch.close();
  });

  it('groups txn()s too: each all or nothing, a failing one alone', async () => {
    await store.create('/t/taken', b('0'));
    const start = await store.currentRevision();
    const before = commits();
    type Outcome = { ok: KeyValue[] } | { err: unknown };
    const settle = (p: Promise<KeyValue[]>): Promise<Outcome> => p.then((ok) => ({ ok }), (err: unknown) => ({ err }));
    // As the API creates an object with a dependent key (a Service and its ClusterIP).
    const pair = (i: number) => store.txn([{ op: 'create', key: `/t/obj-${i}`, value: b(String(i)) }, { op: 'create', key: `/t/dep-${i}`, value: b(String(i)) }]);
    const outcomes = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => settle(pair(i))),
      // Its second operation fails: its first must not be written either.
      settle(store.txn([{ op: 'create', key: '/t/half', value: b('x') }, { op: 'create', key: '/t/taken', value: b('x') }])),
      ...Array.from({ length: 20 }, (_, i) => settle(pair(20 + i))),
      // Create and delete of one key in one txn: later operations see earlier ones.
      settle(store.txn([{ op: 'create', key: '/t/brief', value: b('x') }, { op: 'delete', key: '/t/brief' }])),
    ]);
    const transactions = commits() - before;

    expect(outcomes[20]).toHaveProperty('err');
    expect((outcomes[20] as { err: unknown }).err).toBeInstanceOf(KeyExistsError);
    expect(await store.get('/t/half')).toBeUndefined();
    const ok = outcomes.filter((o): o is { ok: KeyValue[] } => 'ok' in o).map((o) => o.ok);
    expect(ok).toHaveLength(41);
    for (const [i, kvs] of ok.slice(0, 40).entries()) {
      expect(kvs.map((kv) => kv.key)).toEqual([`/t/obj-${i}`, `/t/dep-${i}`]);
      expect(kvs[1]!.modRevision).toBe(kvs[0]!.modRevision + 1); // a txn's revisions stay together
    }
    expect(ok[40]!.map((kv) => kv.key)).toEqual(['/t/brief', '/t/brief']);
    expect(await store.get('/t/brief')).toBeUndefined();
    const revisions = ok.flat().map((kv) => kv.modRevision).sort((x, y) => x - y);
    expect(revisions).toEqual(Array.from({ length: 82 }, (_, i) => start + 1 + i));
    expect(transactions).toBeLessThan(41);
  });

  it('writes acknowledged around a lost connection are all there, and the store writes again', async () => {
    const waiting = Array.from({ length: 10 }, (_, i) => store.create(`/lost/${i}`, b('x')).then(() => 'ok', (e: unknown) => e));
    pg.psql(db, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`);
    const results = await Promise.all(waiting);
    // Whatever was acknowledged is there; whatever failed is not.
    for (const [i, r] of results.entries()) {
      const kv = await store.get(`/lost/${i}`);
      if (r === 'ok') expect(kv).toBeDefined();
      else expect(kv === undefined || kv.value.toString() === 'x').toBe(true);
    }
    expect((await store.create('/lost/after', b('y'))).modRevision).toBeGreaterThan(0);
  });
});
