import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseError, openSqliteStore, restoreSnapshot } from '../../src/store/index.ts';
import type { SqliteStore } from '../../src/store/index.ts';
import { describeStoreConformance } from './conformance.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeos-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(root, `s${++n}`, 'state.db');
const b = (s: string) => Buffer.from(s);

describeStoreConformance('sqlite', async (opts) => {
  const file = freshFile();
  const store = await openSqliteStore({ file, compactIntervalMs: 3_600_000, ...opts });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(join(file, '..'), { recursive: true, force: true });
    },
  };
});

describe('sqlite store specifics', () => {
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const track = (s: SqliteStore) => (open.push(s), s);

  it('keeps everything across close and reopen, and continues the revision sequence', async () => {
    const file = freshFile();
    const s1 = await openSqliteStore({ file });
    await s1.create('/a', b('1'));
    await s1.update('/a', b('2'));
    await s1.create('/b', b('x'));
    await s1.delete('/b');
    await s1.close();
    const s2 = track(await openSqliteStore({ file }));
    expect(await s2.currentRevision()).toBe(4);
    expect((await s2.get('/a'))?.value.toString()).toBe('2');
    expect((await s2.create('/c', b('c'))).modRevision).toBe(5);
  });

  it('bounds its page cache at 8 MiB, or at what the opener asks (the agent\'s cache asks for less)', async () => {
    const cacheSize = (s: SqliteStore) => (s as unknown as { db: { pragma(p: string, o: { simple: true }): unknown } }).db.pragma('cache_size', { simple: true });
    expect(cacheSize(track(await openSqliteStore({ file: freshFile() })))).toBe(-8192);
    expect(cacheSize(track(await openSqliteStore({ file: freshFile(), pageCacheKiB: 1024 })))).toBe(-1024);
  });

  it('does not reuse revisions after the newest rows were compacted away', async () => {
    const file = freshFile();
    const s1 = await openSqliteStore({ file });
    await s1.create('/a', b('1'));
    await s1.delete('/a');
    await s1.compact(2); // removes both rows: the table is empty
    expect((await s1.stats()).rows).toBe(0);
    await s1.close();
    const s2 = track(await openSqliteStore({ file }));
    expect(await s2.currentRevision()).toBe(2);
    expect((await s2.create('/a', b('again'))).modRevision).toBe(3);
  });

  it('compacts incrementally in many short transactions and reclaims disk', async () => {
    const file = freshFile();
    const s = track(await openSqliteStore({ file, retainRevisions: 100, retainMs: 0, compactIntervalMs: 3_600_000 }));
    const v = Buffer.alloc(1000, 'v');
    for (let i = 0; i < 20_000; i++) await s.update(`/k/${i % 50}`, v).catch(() => s.create(`/k/${i % 50}`, v));
    const before = await s.stats();
    const { compactTo } = await import('../../src/store/sqlite/compact.ts');
    const result = await compactTo(s as never, before.currentRevision - 100, { log: (await import('../../src/common/log.ts')).silentLogger(), maxChunkMs: 2 });
    expect(result.chunks).toBeGreaterThan(1);
    const after = await s.stats();
    expect(after.rows).toBeLessThanOrEqual(150);
    expect(after.dbBytes).toBeLessThan(before.dbBytes / 4);
    expect(after.walBytes).toBe(0);
    expect((await s.list('/k/')).kvs).toHaveLength(50);
  });

  it('takes a consistent snapshot while writes continue, and restores it', async () => {
    const file = freshFile();
    const s = await openSqliteStore({ file });
    for (let i = 0; i < 3000; i++) await s.create(`/snap/${i}`, Buffer.alloc(500, i % 256));
    const snap = join(root, `snap-${n}.db`);
    const writing = (async () => {
      for (let i = 0; i < 300; i++) await s.update(`/snap/${i}`, b('during'));
    })();
    await s.snapshot(snap);
    await writing;
    await s.create('/after-snapshot', b('x'));
    const liveRev = await s.currentRevision();
    await s.close();

    // The snapshot is one revision: every key's value matches the history at its revision.
    const snapStore = await openSqliteStore({ file: snap });
    const snapRev = await snapStore.currentRevision();
    const kvs = (await snapStore.list('/snap/')).kvs;
    expect(kvs).toHaveLength(3000);
    expect(kvs.filter((kv) => kv.value.toString() === 'during')).toHaveLength(snapRev - 3000);
    expect(await snapStore.get('/after-snapshot')).toBeUndefined();
    await snapStore.close();

    const result = restoreSnapshot(snap, file);
    expect(result.revision).toBe(snapRev);
    expect(result.previous && existsSync(result.previous)).toBe(true); // nothing is thrown away
    const restored = track(await openSqliteStore({ file }));
    expect(await restored.currentRevision()).toBe(snapRev);
    expect(snapRev).toBeLessThan(liveRev);
    expect(await restored.get('/after-snapshot')).toBeUndefined();
  });

  it('refuses to restore into a store that is open, or from a file that is not a snapshot', async () => {
    const file = freshFile();
    const s = track(await openSqliteStore({ file }));
    await s.create('/x', b('1'));
    const snap = join(root, `snap-open-${n}.db`);
    await s.snapshot(snap);
    expect(() => restoreSnapshot(snap, file)).toThrow(/locked by another process/);
    const junk = join(root, `junk-${n}.db`);
    writeFileSync(junk, 'this is not a database at all, just some text that is long enough '.repeat(100));
    expect(() => restoreSnapshot(junk, file)).toThrow(new RegExp(`${junk}.*corrupt or not an edgeos database`));
    expect(() => restoreSnapshot(join(root, 'missing.db'), file)).toThrow(/does not exist/);
  });

  describe('bad database files', () => {
    it('a corrupt file gives STORE_CORRUPT naming the file and the way out, and is left untouched', async () => {
      const file = freshFile();
      mkdirSync(join(file, '..'), { recursive: true });
      const junk = Buffer.from('garbage '.repeat(2000));
      writeFileSync(file, junk);
      const err = await openSqliteStore({ file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as DatabaseError).code).toBe('STORE_CORRUPT');
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toMatch(/edgeos store restore/);
      expect(readFileSync(file).equals(junk)).toBe(true);
    });

    it('a database damaged inside gives STORE_CORRUPT when read', async () => {
      const file = freshFile();
      const s = await openSqliteStore({ file });
      for (let i = 0; i < 2000; i++) await s.create(`/d/${i}`, Buffer.alloc(300, 1));
      await s.close();
      // Overwrite the middle of the file (b-tree pages) with junk, keeping the header valid.
      const buf = readFileSync(file);
      buf.fill(0xab, 8192, buf.length - 8192);
      writeFileSync(file, buf);
      const err = await (async () => {
        const s2 = await openSqliteStore({ file });
        try {
          await s2.list('/d/');
        } finally {
          await s2.close().catch(() => {});
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as DatabaseError).code).toBe('STORE_CORRUPT');
      expect((err as Error).message).toContain(file);
    });

    it('a database in use by another process gives STORE_LOCKED', async () => {
      const file = freshFile();
      const s = track(await openSqliteStore({ file }));
      await s.create('/x', b('1'));
      const err = await openSqliteStore({ file, busyTimeoutMs: 100 }).catch((e: unknown) => e);
      expect((err as DatabaseError).code).toBe('STORE_LOCKED');
      expect((err as Error).message).toMatch(/another edgeos using the same --data-dir/);
      // the first one keeps working
      await s.create('/y', b('2'));
    });

    it('a database on a read-only file system gives STORE_READONLY', async () => {
      const dir = join(root, `ro-${++n}`);
      mkdirSync(dir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'edgeos-test', dir]);
      try {
        const file = join(dir, 'state.db');
        const s = await openSqliteStore({ file });
        await s.create('/x', b('1'));
        await s.close();
        execFileSync('mount', ['-o', 'remount,ro', dir]);
        const err = await openSqliteStore({ file }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DatabaseError);
        expect(['STORE_READONLY', 'STORE_OPEN_FAILED']).toContain((err as DatabaseError).code);
        expect((err as Error).message).toContain(file);
      } finally {
        execFileSync('umount', [dir]);
      }
    });

    it('a data path that is a directory, or a directory that cannot be created, names the path', async () => {
      const dirAsFile = join(root, `dir-${++n}`);
      mkdirSync(dirAsFile, { recursive: true });
      await expect(openSqliteStore({ file: dirAsFile })).rejects.toThrow(`${dirAsFile} exists and is not a regular file`);
      const blocker = join(root, `blocker-${n}`);
      writeFileSync(blocker, 'a file where a directory should be');
      chmodSync(blocker, 0o600);
      await expect(openSqliteStore({ file: join(blocker, 'state.db') })).rejects.toThrow(/cannot create the directory/);
    });
  });
});
