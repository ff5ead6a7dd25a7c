import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeos-soak-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const KEYS = 1000;
const UPDATES = 1_000_000;
const RETAIN = 10_000;

/*
 * Size bounds, and why:
 * - Live data: 1,000 keys × ~300 B (200 B value + key + row header) ≈ 0.3 MiB.
 * - History: the policy keeps RETAIN = 10,000 revisions, plus whatever is written between two
 *   compaction passes (250 ms here; at most ~15,000 rows at this machine's rate): ≤ 25,000 rows ×
 *   ~300 B ≈ 7.5 MiB of row data, and the (name, id) index ≈ 40 B a row ≈ 1 MiB.
 * - Free pages are returned by incremental_vacuum after each pass, so the file tracks the data:
 *   DB_LIMIT = 16 MiB leaves 2× for B-tree page slack.
 * - The WAL is checkpointed every 1,000 pages (4 MiB) and truncated to journal_size_limit (4 MiB)
 *   and to 0 after each compaction: WAL_LIMIT = 8 MiB.
 * Without compaction the same run would keep 1,000,000 rows: ~300 MiB.
 */
const DB_LIMIT = 16 * MiB;
const WAL_LIMIT = 8 * MiB;

describe('soak: 1,000,000 updates over 1,000 keys', () => {
  it('keeps the database and WAL bounded throughout and at the end', async () => {
    const file = join(root, 'state.db');
    const store = await openSqliteStore({ file, retainRevisions: RETAIN, retainMs: 0, compactIntervalMs: 250 });
    try {
      const value = Buffer.alloc(200, 'x');
      for (let k = 0; k < KEYS; k++) await store.create(`/registry/soak/key-${k}`, value);
      let maxDb = 0;
      let maxWal = 0;
      for (let i = 0; i < UPDATES; i++) {
        await store.update(`/registry/soak/key-${i % KEYS}`, value);
        if (i % 500 === 499) await new Promise((r) => setImmediate(r)); // as a server would: timers get their turn
        if (i % 50_000 === 49_999) {
          const st = await store.stats();
          maxDb = Math.max(maxDb, st.dbBytes);
          maxWal = Math.max(maxWal, st.walBytes);
        }
      }
      await store.maintenance.tick(); // the pass a steady-state server would run next
      const end = await store.stats();
      console.log(
        `soak: revision ${end.currentRevision}, compacted to ${end.compactRevision}, rows ${end.rows}, ` +
          `db ${(end.dbBytes / MiB).toFixed(1)} MiB (max ${(maxDb / MiB).toFixed(1)}), wal ${(end.walBytes / MiB).toFixed(1)} MiB (max ${(maxWal / MiB).toFixed(1)})`,
      );
      expect(end.currentRevision).toBe(KEYS + UPDATES);
      expect(end.compactRevision).toBeGreaterThanOrEqual(end.currentRevision - RETAIN);
      expect(end.rows).toBeLessThanOrEqual(KEYS + RETAIN);
      expect(end.dbBytes).toBeLessThan(DB_LIMIT);
      expect(end.walBytes).toBeLessThan(WAL_LIMIT);
      expect(maxDb).toBeLessThan(DB_LIMIT);
      expect(maxWal).toBeLessThan(WAL_LIMIT);
      expect(await store.count('/registry/soak/')).toBe(KEYS);
    } finally {
      await store.close();
    }
  }, 900_000);
});
