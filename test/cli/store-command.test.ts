import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore, openSqliteStore, parseEndpoint } from '../../src/store/index.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeos-store-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const main = join(import.meta.dirname, '../../src/cli/main.ts');

function edgeosWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const edgeos = (...args: string[]) => edgeosWith({}, ...args);

describe('edgeos store', () => {
  it('stats, snapshot and restore round-trip a data dir', async () => {
    const dataDir = join(root, 'a');
    const file = join(dataDir, 'server', 'db', 'state.db');
    const s = await openSqliteStore({ file });
    await s.create('/registry/configmaps/default/one', Buffer.from('{"v":1}'));
    await s.close();

    const stats = edgeos('store', 'stats', '--data-dir', dataDir, '-o', 'json');
    expect(stats.code, stats.err).toBe(0);
    expect(JSON.parse(stats.out)).toMatchObject({ keys: 1, currentRevision: 1, file });

    const snap = join(root, 'a.snapshot');
    const save = edgeos('store', 'snapshot', snap, '--data-dir', dataDir);
    expect(save.code, save.err).toBe(0);
    expect(save.out).toContain(`snapshot of revision 1 written to ${snap}`);

    const s2 = await openSqliteStore({ file });
    await s2.create('/registry/configmaps/default/two', Buffer.from('{}'));
    await s2.close();

    const restore = edgeos('store', 'restore', snap, '--data-dir', dataDir);
    expect(restore.code, restore.err).toBe(0);
    expect(restore.out).toMatch(/restored revision 1 into .*previous database is kept as .*before-restore-/);
    expect(JSON.parse(edgeos('store', 'stats', '--data-dir', dataDir, '-o', 'json').out).keys).toBe(1);
  });

  it('a corrupt store file fails with one line naming the file, exit 1', () => {
    const dataDir = join(root, 'corrupt');
    mkdirSync(join(dataDir, 'server', 'db'), { recursive: true });
    writeFileSync(join(dataDir, 'server', 'db', 'state.db'), 'not sqlite '.repeat(500));
    const r = edgeos('store', 'stats', '--data-dir', dataDir);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`edgeos: open store: ${join(dataDir, 'server', 'db', 'state.db')} is corrupt or not an edgeos database`);
  });

  it('a store in use gives a clear error instead of waiting or corrupting it', async () => {
    const dataDir = join(root, 'busy');
    const s = await openSqliteStore({ file: join(dataDir, 'server', 'db', 'state.db') });
    try {
      const r = edgeos('store', 'compact', '--data-dir', dataDir);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/is locked by another process \(is another edgeos using the same --data-dir\?\)/);
    } finally {
      await s.close();
    }
  });
});

describe('edgeos store --datastore-endpoint', () => {
  let pg: TestPostgres | undefined;
  afterAll(async () => {
    await pg?.destroy();
  });

  it('stats and snapshot read PostgreSQL while it serves; restore and compact refuse it', async () => {
    pg = await startPostgres();
    const db = await pg.createDatabase('cli');
    const url = pg.url(db);
    const s = await openPostgresStore({ endpoint: parseEndpoint(url, 'test') });
    try {
      await s.create('/registry/configmaps/default/one', Buffer.from('{"v":1}'));
      await s.create('/registry/configmaps/default/two', Buffer.from('{"v":2}'));
      const env = { EDGEOS_DATASTORE_ENDPOINT: url };
      const stats = edgeosWith(env, 'store', 'stats', '--data-dir', join(root, 'pg'), '-o', 'json');
      expect(stats.code, stats.err).toBe(0);
      expect(JSON.parse(stats.out)).toMatchObject({ keys: 2, currentRevision: 2, file: `PostgreSQL at 127.0.0.1:${pg.port} (database ${db}, user ${pg.user})` });

      const snap = join(root, 'pg.snapshot');
      const save = edgeosWith(env, 'store', 'snapshot', snap, '--data-dir', join(root, 'pg'));
      expect(save.code, save.err).toBe(0);
      expect(save.out).toContain(`snapshot of revision 2 written to ${snap}`);
      // The store that opened the database still leads maintenance: the CLI took no part.
      expect(s.leadsMaintenance()).toBe(true);

      const restore = edgeosWith(env, 'store', 'restore', snap, '--data-dir', join(root, 'pg'));
      expect(restore.code).toBe(1);
      expect(restore.err).toMatch(/^edgeos: EDGEOS_DATASTORE_ENDPOINT: restore writes the SQLite store of --data-dir; .*pg_restore/);
      const compact = edgeosWith(env, 'store', 'compact', '--datastore-endpoint', url);
      expect(compact.err).toMatch(/^edgeos: --datastore-endpoint: on PostgreSQL the server holding the maintenance lock compacts/);
      for (const r of [stats, save, restore, compact]) expect(r.out + r.err).not.toContain(pg.password);
      // Without the endpoint the snapshot restores into a SQLite data dir: the way off PostgreSQL.
      const intoSqlite = edgeos('store', 'restore', snap, '--data-dir', join(root, 'from-pg'));
      expect(intoSqlite.code, intoSqlite.err).toBe(0);
      expect(JSON.parse(edgeos('store', 'stats', '--data-dir', join(root, 'from-pg'), '-o', 'json').out)).toMatchObject({ keys: 2, currentRevision: 2 });
    } finally {
      await s.close();
    }
  });
});
