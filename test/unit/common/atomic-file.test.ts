import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writePayload } from '../../../src/common/atomic-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeos-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates missing directories privately, sets the mode at creation and replaces without leftovers', () => {
    const file = join(dir, 'a', 'b', 'key.pem');
    writeFileAtomic(file, 'one', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('one');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    writeFileAtomic(file, new Uint8Array([0x74, 0x77, 0x6f]), 0o644);
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['key.pem']);
  });

  it('leaves the old file when the write cannot happen', () => {
    const file = join(dir, 'state');
    writeFileAtomic(file, 'old', 0o644);
    // The target is a directory now: rename fails, the temporary file is removed.
    expect(() => writeFileAtomic(join(dir), 'x', 0o644)).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['state']);
  });
});

describe('writePayload', () => {
  const payload = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode: 0o644 }]));

  it('swaps ..data to a complete new set of files and removes what is gone', async () => {
    const vol = join(dir, 'vol');
    expect(await writePayload(vol, payload({ a: '1', 'sub/b': '2' }))).toBe(true);
    const first = readlinkSync(join(vol, '..data'));
    expect(await readFile(join(vol, 'sub', 'b'), 'utf8')).toBe('2');
    expect(await writePayload(vol, payload({ a: '1', 'sub/b': '2' }))).toBe(false);
    expect(await writePayload(vol, payload({ a: '3' }))).toBe(true);
    expect(readlinkSync(join(vol, '..data'))).not.toBe(first);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('3');
    expect((await readdir(vol)).sort()).toEqual(['..data', readlinkSync(join(vol, '..data')), 'a'].sort());
  });

  it('refuses paths that leave the volume', async () => {
    await expect(writePayload(join(dir, 'vol'), payload({ '../x': '1' }))).rejects.toThrow(/invalid item path/);
  });
});

describe('every tmp + rename of a device file goes through the atomic writer', () => {
  // Files that rename for another reason than writing one file, and why.
  const allowed: Record<string, string> = {
    'src/common/atomic-file.ts': 'the writer itself',
    'src/agent/join/join.ts': 'renames the staged node directory (files written atomically) into place, then fsyncs its parent',
    'src/agent/join/node-files.ts': 'swaps a renewed key and certificate (each written atomically) in order, then fsyncs the directory',
    'src/server/kinds/event.ts': 'renames object fields (events.k8s.io/v1 ↔ core/v1 Event), not files',
    'src/store/sqlite/backend.ts': "the store's snapshot (VACUUM INTO a temporary file, renamed): SQLite's own file",
    'src/store/sqlite/restore.ts': "the store's restore: moves SQLite database files",
    'src/store/postgres/snapshot.ts': "a PostgreSQL snapshot is a SQLite store file written to a temporary name, renamed when whole",
    'src/cli/bundle/archive-writer.ts': 'the bundle archive on the build machine, not a device file',
  };
  it('has no hand-rolled rename elsewhere', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const found: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.ts') && /\brename(Sync)?\(/.test(readFileSync(p, 'utf8'))) found.push(p.slice(root.length + 1));
      }
    };
    walk(join(root, 'src'));
    expect(found.filter((f) => !(f in allowed))).toEqual([]);
  });
});
