import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CompactedError, ConflictError, DatabaseError, openPostgresStore, openSqliteStore, parseEndpoint, restoreSnapshot } from '../../src/store/index.ts';
import type { EndpointFiles, PostgresStore, PostgresStoreOptions, WatchEvent } from '../../src/store/index.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import type { PostgresBackend } from '../../src/store/postgres/backend.ts';
import { WatchRecorder, describeStoreConformance } from './conformance.ts';

let pg: TestPostgres;
const root = mkdtempSync(join(tmpdir(), 'edgeos-pgstore-'));
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.destroy();
  rmSync(root, { recursive: true, force: true });
});

const b = (s: string) => Buffer.from(s);
const endpoint = (url: string) => parseEndpoint(url, '--datastore-endpoint');

describeStoreConformance('postgres', async (opts) => {
  const db = await pg.createDatabase('conf');
  const store = await openPostgresStore({ endpoint: endpoint(pg.url(db)), compactIntervalMs: 3_600_000, ...opts });
  return { store, cleanup: () => store.close() };
});

describe('postgres store: several servers on one database', () => {
  const open: PostgresStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const openStore = async (db: string, o: Partial<PostgresStoreOptions> = {}) => {
    const s = await openPostgresStore({ endpoint: endpoint(pg.url(db)), compactIntervalMs: 3_600_000, ...o });
    open.push(s);
    return s;
  };

  it('concurrent writers get gap-free, totally ordered revisions, and every watch sees the same sequence', async () => {
    const db = await pg.createDatabase('mw');
    const [a, c] = [await openStore(db), await openStore(db)];
    const recA = new WatchRecorder();
    const recC = new WatchRecorder();
    a.watch('/mw/', { fromRevision: 0 }, recA.onMessage);
    c.watch('/mw/', { fromRevision: 0 }, recC.onMessage);
    const acked: number[] = [];
    // Eight writers per server, creates and multi-key transactions interleaved.
    const writer = async (s: PostgresStore, name: string) => {
      for (let i = 0; i < 40; i++) {
        if (i % 5 === 4) {
          const out = await s.txn([
            { op: 'create', key: `/mw/${name}-${i}-x`, value: b('x') },
            { op: 'create', key: `/mw/${name}-${i}-y`, value: b('y') },
          ]);
          expect(out[1]!.modRevision).toBe(out[0]!.modRevision + 1); // one transaction: consecutive
          acked.push(...out.map((kv) => kv.modRevision));
        } else acked.push((await s.create(`/mw/${name}-${i}`, b(name))).modRevision);
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w % 2 ? c : a, `w${w}`)));
    const total = 16 * (32 + 8 * 2);
    expect(acked.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await a.currentRevision()).toBe(total);
    await recA.until(() => recA.events.length === total, 'every event on server A');
    await recC.until(() => recC.events.length === total, 'every event on server C');
    const seq = (events: WatchEvent[]) => events.map((e) => `${e.kv.modRevision}:${e.kv.key}`);
    expect(seq(recA.events)).toEqual(seq(recC.events));
    expect(recA.events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('compare-and-swap from two servers loses no update', async () => {
    const db = await pg.createDatabase('cas');
    const [a, c] = [await openStore(db), await openStore(db)];
    await a.create('/cas/counter', b('0'));
    let conflicts = 0;
    const increment = async (s: PostgresStore) => {
      for (let done = 0; done < 25; ) {
        const cur = (await s.get('/cas/counter'))!;
        try {
          await s.update('/cas/counter', b(String(Number(cur.value.toString()) + 1)), { expectedModRevision: cur.modRevision });
          done++;
        } catch (err) {
          expect(err).toBeInstanceOf(ConflictError);
          conflicts++;
        }
      }
    };
    await Promise.all([increment(a), increment(c), increment(a), increment(c)]);
    expect((await c.get('/cas/counter'))!.value.toString()).toBe('100');
    expect(conflicts).toBeGreaterThan(0); // the writers did collide; CAS sorted them out
  });

  it('exactly one server compacts and expires keys; another takes over when it goes', async () => {
    const db = await pg.createDatabase('lead');
    const a = await openStore(db, { ttlSweepIntervalMs: 100 });
    const c = await openStore(db, { ttlSweepIntervalMs: 100 });
    expect([a.leadsMaintenance(), c.leadsMaintenance()]).toEqual([true, false]);
    await expect(c.compact(1)).rejects.toMatchObject({ code: 'STORE_NOT_LEADER' });

    // A TTL key written through the standby expires once (on the leader); both watches see one delete.
    const recA = new WatchRecorder();
    const recC = new WatchRecorder();
    a.watch('/ttl/', { fromRevision: 0 }, recA.onMessage);
    c.watch('/ttl/', { fromRevision: 0 }, recC.onMessage);
    await c.create('/ttl/k', b('v'), { ttlSeconds: 1 });
    for (const rec of [recA, recC]) await rec.until(() => rec.events.some((e) => e.type === 'DELETED'), 'the expiry', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    for (const rec of [recA, recC]) expect(rec.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);

    // Compaction on the leader is seen by the standby's reads and watches.
    for (let i = 0; i < 10; i++) await c.create(`/h/${i}`, b(String(i)));
    await a.compact(5);
    await expect(c.get('/h/1', { revision: 4 })).rejects.toBeInstanceOf(CompactedError);
    expect(await c.compactRevision()).toBe(5);

    // The leader goes away: the standby takes the lock within a few sweeps and compacts.
    await open.shift()!.close();
    const deadline = Date.now() + 10_000;
    while (!c.leadsMaintenance() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(c.leadsMaintenance()).toBe(true);
    await c.compact(await c.currentRevision());
    expect((await c.stats()).rows).toBe(10);
  });

  it('compacts in many short paced transactions while another server keeps writing', async () => {
    const db = await pg.createDatabase('pace');
    const a = await openStore(db);
    const c = await openStore(db);
    const v = Buffer.alloc(200, 'v');
    await a.txn(Array.from({ length: 50 }, (_, i) => ({ op: 'create' as const, key: `/k/${i}`, value: v })));
    for (let r = 0; r < 200; r++) await c.txn(Array.from({ length: 50 }, (_, i) => ({ op: 'update' as const, key: `/k/${i}`, value: v })));
    let writing = true;
    const writer = (async () => {
      while (writing) await c.update('/k/0', v);
    })();
    const leader = (a as unknown as PostgresBackend).leader;
    const target = (await a.currentRevision()) - 100;
    const result = await leader.compact(target, { takeWriteCount: () => 0, closed: () => false }, 2);
    writing = false;
    await writer;
    expect(result.chunks).toBeGreaterThan(1);
    expect(result.compacted).toBe(target);
    expect((await a.stats()).rows).toBeLessThanOrEqual(50 + 100 + (await a.currentRevision()) - target);
    expect((await c.list('/k/')).kvs).toHaveLength(50);
  });

  it('a server whose connections were cut catches up: its watches miss nothing', async () => {
    const db = await pg.createDatabase('cut');
    const a = await openStore(db, { heartbeatMs: 200 });
    const c = await openStore(db);
    const rec = new WatchRecorder();
    a.watch('/cut/', { fromRevision: 0 }, rec.onMessage);
    await c.create('/cut/0', b('0'));
    await rec.until(() => rec.events.length === 1, 'the first event');
    // Every connection of both servers is terminated, as when a database fails over.
    pg.psql('postgres', `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`);
    for (let i = 1; i <= 30; i++) {
      for (;;) {
        try {
          await c.create(`/cut/${i}`, b(String(i)));
          break;
        } catch (err) {
          expect((err as DatabaseError).code).toBe('STORE_UNAVAILABLE'); // a write on a cut connection fails; retry
        }
      }
    }
    await rec.until(() => rec.events.length === 31, 'every event after the cut', 20_000);
    expect(rec.events.map((e) => e.kv.key)).toEqual(Array.from({ length: 31 }, (_, i) => `/cut/${i}`));
    expect(a.unavailable()).toBeUndefined();
  });
});

describe('postgres store: connecting', () => {
  const open: PostgresStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const attempt = async (url: string, files: EndpointFiles = {}) => {
    try {
      open.push(await openPostgresStore({ endpoint: endpoint(url), files }));
      return undefined;
    } catch (err) {
      return err as DatabaseError;
    }
  };
  const sslConnections = (db: string) =>
    Number(pg.psql('postgres', `SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '${db}' AND s.ssl`));

  it('a database that cannot be used is a clear error naming the flag and the host, never the password', async () => {
    const db = await pg.createDatabase('bad');
    const host = `127.0.0.1:${pg.port}`;
    const wrongPassword = `postgres://${pg.user}:Not-The-Pw-123@127.0.0.1:${pg.port}/${db}?sslmode=disable`;
    const cases: Array<[string, RegExp]> = [
      [wrongPassword, /password authentication failed/],
      [pg.url('no_such_db'), /database does not exist: create it/],
      [`postgres://${pg.user}:Not-The-Pw-123@127.0.0.1:1/${db}?sslmode=disable`, /127\.0\.0\.1:1 .*connection refused/],
      [`postgres://${pg.user}@127.0.0.1:${pg.port}/${db}?sslmode=disable`, /asks for a password and none was given/],
    ];
    for (const [url, want] of cases) {
      const err = await attempt(url);
      expect(err, url).toBeInstanceOf(DatabaseError);
      expect(err!.code).toBe('STORE_UNAVAILABLE');
      expect(err!.message).toMatch(/^--datastore-endpoint: cannot use PostgreSQL at 127\.0\.0\.1:\d+ \(database \w+, user edgeos_admin\): /);
      expect(err!.message).toMatch(want);
      expect(err!.message).not.toContain('Not-The-Pw');
      expect(err!.message).not.toContain(pg.password);
    }
    expect((await attempt(wrongPassword))!.message).toContain(host);
  });

  it('a server that accepts but never answers fails after connect_timeout', async () => {
    const silent = createServer(() => {}); // takes the connection, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const t0 = Date.now();
      const err = await attempt(`postgres://edge:Not-The-Pw-123@127.0.0.1:${port}/x?sslmode=disable&connect_timeout=1`);
      expect(err!.message).toBe(`--datastore-endpoint: cannot use PostgreSQL at 127.0.0.1:${port} (database x, user edge): no answer within 1 s (connect_timeout)`);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('takes the password from --datastore-password-file', async () => {
    const db = await pg.createDatabase('pwfile');
    const file = join(root, 'pw');
    writeFileSync(file, `${pg.password}\n`, { mode: 0o600 });
    const url = `postgres://${pg.user}@127.0.0.1:${pg.port}/${db}?sslmode=disable`;
    expect(await attempt(url, { passwordFile: { path: file, from: '--datastore-password-file' } })).toBeUndefined();
    const missing = await attempt(url, { passwordFile: { path: join(root, 'nope'), from: '--datastore-password-file' } });
    expect(missing!.message).toMatch(/^--datastore-password-file: cannot read the password file .*nope/);
  });

  it('speaks TLS: verify-full with the CA file, require without one, and refuses a certificate it cannot trust', async () => {
    const db = await pg.createDatabase('tls');
    const ca = { caFile: { path: pg.caFile, from: '--datastore-cafile' } };
    // No sslmode + a CA file = verify-full.
    expect(await attempt(pg.url(db, {}), ca)).toBeUndefined();
    expect(await attempt(pg.url(db, { sslmode: 'verify-full' }).replace('127.0.0.1', 'localhost'), ca)).toBeUndefined();
    expect(await attempt(pg.url(db, { sslmode: 'require' }))).toBeUndefined();
    expect(await attempt(pg.url(db, { sslmode: 'verify-ca', sslrootcert: pg.caFile }))).toBeUndefined();
    expect(sslConnections(db)).toBeGreaterThanOrEqual(4 * 2); // each store listens and holds a maintenance connection, encrypted
    const s = open[0]!;
    await s.create('/tls/x', b('over TLS'));
    expect((await s.get('/tls/x'))!.value.toString()).toBe('over TLS');

    // A CA that did not sign the server's certificate.
    const other = join(root, 'other-ca.pem');
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=other', '-keyout', join(root, 'other.key'), '-out', other], { stdio: 'ignore' });
    const untrusted = await attempt(pg.url(db, { sslmode: 'verify-full' }), { caFile: { path: other, from: '--datastore-cafile' } });
    expect(untrusted!.message).toMatch(/TLS: the server's certificate is not trusted .*--datastore-cafile/);
    const noFile = await attempt(pg.url(db, { sslmode: 'verify-full' }), { caFile: { path: join(root, 'missing.pem'), from: '--datastore-cafile' } });
    expect(noFile!.message).toMatch(/^--datastore-cafile: cannot read the CA file .*missing\.pem/);
  });

  it('refuses a database written by a newer edgeos', async () => {
    const db = await pg.createDatabase('newer');
    open.push(await openPostgresStore({ endpoint: endpoint(pg.url(db)) }));
    await open.pop()!.close();
    pg.psql(db, `UPDATE edgeos_meta SET value = 99 WHERE key = 'schema_version'`);
    const err = await attempt(pg.url(db));
    expect(err!.code).toBe('STORE_SCHEMA');
    expect(err!.message).toMatch(/written by a newer edgeos \(schema 99/);
  });
});

describe('postgres store: snapshot', () => {
  it('writes a SQLite store file of one revision while writes continue, which restores into a data dir', async () => {
    const db = await pg.createDatabase('snap');
    const s = await openPostgresStore({ endpoint: endpoint(pg.url(db)), compactIntervalMs: 3_600_000 });
    try {
      for (let i = 0; i < 1500; i++) await s.create(`/snap/${i}`, Buffer.alloc(300, i % 256));
      await s.delete('/snap/0');
      const file = join(root, 'pg.snapshot');
      const writing = (async () => {
        for (let i = 1; i < 200; i++) await s.update(`/snap/${i}`, b('during'));
      })();
      await s.snapshot(file);
      await writing;
      const dataFile = join(root, 'restored', 'state.db');
      const { revision } = restoreSnapshot(file, dataFile);
      const restored = await openSqliteStore({ file: dataFile });
      try {
        expect(await restored.currentRevision()).toBe(revision);
        const kvs = (await restored.list('/snap/')).kvs;
        expect(kvs).toHaveLength(1499);
        // One revision: exactly the updates up to it are in.
        expect(kvs.filter((kv) => kv.value.toString() === 'during')).toHaveLength(revision - 1501);
        expect((await restored.create('/after', b('x'))).modRevision).toBe(revision + 1);
      } finally {
        await restored.close();
      }
    } finally {
      await s.close();
    }
  });
});
