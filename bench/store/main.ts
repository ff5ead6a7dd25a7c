// bench/store: the store API against raw better-sqlite3, in one run. Last line: one JSON object.
//
// Baseline (raw_inserts_per_s): plain better-sqlite3 single-row INSERT transactions into a
// key/value table (key TEXT PRIMARY KEY, value BLOB) with the store's pragmas, same keys and values.
// That is the floor for any keyed store on SQLite: one B-tree insert by key plus one commit. (An
// unindexed append would not be a key/value store: nothing could be found by key.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/index.ts';
import { pragmas } from '../../src/store/sqlite/schema.ts';
import { bundleEntry } from '../bundle-entry.ts';
import { FILL, keyOf } from './keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeos-bench-store-'));
const N = Number(process.env.BENCH_STORE_N ?? 20_000);
const value = Buffer.alloc(500, 'v');
const log = (msg: string) => console.log(`store bench: ${msg}`);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function rawInserts(): number {
  const file = join(dir, 'raw.db');
  const db = new Database(file);
  for (const p of pragmas('normal', 2000)) db.pragma(p);
  db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)');
  const ins = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
  const tx = db.transaction((k: string) => ins.run(k, value));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) tx.immediate(keyOf(i));
  const rate = N / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

async function storeWrites(): Promise<{ creates: number; updates: number }> {
  const store = await openSqliteStore({ file: join(dir, 'writes.db'), compactIntervalMs: 3_600_000 });
  let t0 = performance.now();
  for (let i = 0; i < N; i++) await store.create(keyOf(i), value);
  const creates = N / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < N; i++) await store.update(keyOf(i), value);
  const updates = N / ((performance.now() - t0) / 1000);
  await store.close();
  return { creates, updates };
}

// Raw and store runs alternate three times and the medians are compared: the machine is shared.
const raws: number[] = [];
const creates: number[] = [];
const updates: number[] = [];
for (let r = 0; r < 3; r++) {
  raws.push(rawInserts());
  const w = await storeWrites();
  creates.push(w.creates);
  updates.push(w.updates);
  for (const f of ['raw.db', 'writes.db']) for (const s of ['', '-wal', '-shm']) rmSync(join(dir, f + s), { force: true });
  log(`round ${r + 1}: raw ${Math.round(raws[r]!)}/s, create ${Math.round(w.creates)}/s, update ${Math.round(w.updates)}/s`);
}
const raw = quantile(raws, 0.5);
const create = quantile(creates, 0.5);
const update = quantile(updates, 0.5);

// 100k keys: gets, a 10k-key list, watch latency with 100 watchers.
const file = join(dir, 'big.db');
const store = await openSqliteStore({ file, compactIntervalMs: 3_600_000 });
await store.txn([]);
for (let i = 0; i < FILL; i += 1000) {
  await store.txn(Array.from({ length: 1000 }, (_, j) => ({ op: 'create' as const, key: keyOf(i + j), value })));
}
for (let i = 0; i < 10_000; i++) await store.create(`/registry/configmaps/bench/cm-${String(i).padStart(5, '0')}`, value);
log(`filled ${FILL} + 10000 keys`);

const gets: number[] = [];
for (let i = 0; i < 20_000; i++) {
  const k = keyOf(Math.floor(Math.random() * FILL));
  const t0 = performance.now();
  await store.get(k);
  gets.push(performance.now() - t0);
}
const lists: number[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const r = await store.list('/registry/configmaps/bench/');
  lists.push(performance.now() - t0);
  if (r.kvs.length !== 10_000) throw new Error(`list returned ${r.kvs.length} keys`);
}

const WATCHERS = 100;
const WRITES = 300;
const lat: number[] = [];
let committedAt = new Map<number, number>();
for (let w = 0; w < WATCHERS; w++) {
  store.watch('/registry/pods/watched/', { fromRevision: 0 }, (m) => {
    if (m.kind !== 'events') return;
    const now = performance.now();
    for (const e of m.events) lat.push(now - committedAt.get(e.kv.modRevision)!);
  });
}
for (let i = 0; i < WRITES; i++) {
  const kv = await store.create(`/registry/pods/watched/p-${i}`, value);
  committedAt.set(kv.modRevision, performance.now());
  await new Promise((r) => setTimeout(r, 2));
}
const deadline = Date.now() + 10_000;
while (lat.length < WATCHERS * WRITES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
if (lat.length < WATCHERS * WRITES) throw new Error(`watchers received ${lat.length}/${WATCHERS * WRITES} events`);
committedAt = new Map();
await store.close();

// RSS of a fresh process holding the 100k-key store open and serving reads from it.
const rssChild = await bundleEntry(join(import.meta.dirname, 'rss-child.ts'));
const child = spawnSync(process.execPath, ['--expose-gc', rssChild, file], { encoding: 'utf8' });
if (child.status !== 0) throw new Error(`rss child failed: ${child.stderr}`);
const rss = Number(child.stdout.trim().split('\n').pop());
rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    bench: 'store',
    raw_inserts_per_s: Math.round(raw),
    creates_per_s: Math.round(create),
    updates_per_s: Math.round(update),
    ratio_create_vs_raw: round(create / raw),
    get_p50_ms: round(quantile(gets, 0.5), 4),
    get_p99_ms: round(quantile(gets, 0.99), 4),
    list_10k_ms: round(quantile(lists, 0.5), 1),
    watch_p50_ms: round(quantile(lat, 0.5)),
    watch_p99_ms: round(quantile(lat, 0.99)),
    rss_mb_100k: round(rss / 1024 / 1024, 1),
  }),
);
