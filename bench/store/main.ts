// bench/store: the store API against its raw database, in one run. Last line: one JSON object.
// `npm run bench -- store` measures SQLite, `npm run bench -- store --backend postgres` PostgreSQL
// (a private server started here, test/helpers/postgres.ts, with fsync on like a real one).
//
// Baseline (raw_inserts_per_s): single-row INSERT transactions into a key/value table (key text
// primary key, value blob), same keys and values, through the same client library: better-sqlite3
// with the store's pragmas, or node-postgres over the same TCP connection settings. That is the
// floor for any keyed store on that database: one B-tree insert by key plus one commit. (An
// unindexed append would not be a key/value store: nothing could be found by key.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore, openSqliteStore, parseEndpoint } from '../../src/store/index.ts';
import type { Store } from '../../src/store/index.ts';
import { pragmas } from '../../src/store/sqlite/schema.ts';
import { startPostgres } from '../../test/helpers/postgres.ts';
import { serverLaunchEnv, v8Flags } from '../../src/common/v8-flags.ts';
import { bundleEntry } from '../bundle-entry.ts';
import { FILL, keyOf } from './keys.ts';

const { values: flags } = parseArgs({ options: { backend: { type: 'string', default: 'sqlite' } } });
if (flags.backend !== 'sqlite' && flags.backend !== 'postgres') {
  console.error(`store bench: --backend ${flags.backend}: expected sqlite or postgres`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'edgeos-bench-store-'));
// Every PostgreSQL write is a network round trip and an fsync: fewer of them keep the run short.
const N = Number(process.env.BENCH_STORE_N ?? (flags.backend === 'postgres' ? 5000 : 20_000));
const value = Buffer.alloc(500, 'v');
const log = (msg: string) => console.log(`store bench (${flags.backend}): ${msg}`);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const rate = (n: number, t0: number) => n / ((performance.now() - t0) / 1000);

interface Backend {
  /** Raw inserts per second (the baseline). */
  raw(): Promise<number>;
  open(name: string): Promise<Store>;
  /** Drops what open(name) created. */
  drop(name: string): Promise<void>;
  /** Arguments of rss-child.ts for the store open(name) made. */
  rssArgs(name: string): string[];
  stop(): Promise<void>;
}

function sqliteBackend(): Backend {
  const file = (name: string) => join(dir, `${name}.db`);
  return {
    async raw() {
      const db = new Database(file('raw'));
      for (const p of pragmas('normal', 2000)) db.pragma(p);
      db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)');
      const ins = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
      const tx = db.transaction((k: string) => ins.run(k, value));
      const t0 = performance.now();
      for (let i = 0; i < N; i++) tx.immediate(keyOf(i));
      const r = rate(N, t0);
      db.close();
      await this.drop('raw');
      return r;
    },
    open: (name) => openSqliteStore({ file: file(name), compactIntervalMs: 3_600_000 }),
    async drop(name) {
      for (const s of ['', '-wal', '-shm']) rmSync(file(name) + s, { force: true });
    },
    rssArgs: (name) => ['sqlite', file(name)],
    async stop() {},
  };
}

async function postgresBackend(): Promise<Backend> {
  // Durable like a production server: fsync and full-page writes on (the test default is off).
  const server = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on', shared_buffers: '128MB' } });
  const urlOf = (name: string) => server.url(name);
  const databases = new Map<string, string>();
  return {
    async raw() {
      const db = await server.createDatabase('raw');
      const client = new pg.Client({ connectionString: urlOf(db) });
      await client.connect();
      await client.query('CREATE TABLE kv (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL)');
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await client.query({ name: 'ins', text: 'INSERT INTO kv (key, value) VALUES ($1, $2)', values: [keyOf(i), value] });
      const r = rate(N, t0);
      await client.end();
      server.psql('postgres', `DROP DATABASE ${db}`);
      return r;
    },
    async open(name) {
      const db = await server.createDatabase(name);
      databases.set(name, db);
      return openPostgresStore({ endpoint: parseEndpoint(urlOf(db), 'bench'), compactIntervalMs: 3_600_000 });
    },
    async drop(name) {
      server.psql('postgres', `DROP DATABASE ${databases.get(name)!}`);
      databases.delete(name);
    },
    rssArgs: (name) => ['postgres', urlOf(databases.get(name)!)],
    stop: () => server.destroy(),
  };
}

const backend = flags.backend === 'postgres' ? await postgresBackend() : sqliteBackend();
try {
  // Raw and store runs alternate three times and the medians are compared: the machine is shared.
  const raws: number[] = [];
  const creates: number[] = [];
  const updates: number[] = [];
  for (let r = 0; r < 3; r++) {
    raws.push(await backend.raw());
    const store = await backend.open('writes');
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await store.create(keyOf(i), value);
    creates.push(rate(N, t0));
    t0 = performance.now();
    for (let i = 0; i < N; i++) await store.update(keyOf(i), value);
    updates.push(rate(N, t0));
    await store.close();
    await backend.drop('writes');
    log(`round ${r + 1}: raw ${Math.round(raws[r]!)}/s, create ${Math.round(creates[r]!)}/s, update ${Math.round(updates[r]!)}/s`);
  }
  const raw = quantile(raws, 0.5);
  const create = quantile(creates, 0.5);
  const update = quantile(updates, 0.5);

  // 100k keys: gets, a 10k-key list, watch latency with 100 watchers.
  const store = await backend.open('big');
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

  // RSS of a fresh process holding the 100k-key store open and serving reads from it, with the
  // server's V8 flags and malloc settings (the store lives in `edgeos server`).
  const rssChild = await bundleEntry(join(import.meta.dirname, 'rss-child.ts'));
  const child = spawnSync(process.execPath, ['--expose-gc', ...v8Flags.server, rssChild, ...backend.rssArgs('big')], {
    encoding: 'utf8',
    env: { ...process.env, ...serverLaunchEnv },
  });
  if (child.status !== 0) throw new Error(`rss child failed: ${child.stderr}`);
  const rss = Number(child.stdout.trim().split('\n').pop());

  console.log(
    JSON.stringify({
      bench: 'store',
      backend: flags.backend,
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
} finally {
  await backend.stop();
  rmSync(dir, { recursive: true, force: true });
}
