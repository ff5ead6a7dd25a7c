import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.ts';
import { WatchRecorder } from './conformance.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeos-crash-'));
const children: number[] = [];
afterAll(() => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(root, { recursive: true, force: true });
});

interface Ack { rev: number; key: string; value?: string; deleted: boolean }

/** Runs the writer until it has acknowledged `minAcks` writes, then kills it with SIGKILL. */
function runAndKill(file: string, minAcks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'crash-writer.ts'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child.pid!);
    const acks: Ack[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [kind, rev, key, value] = l.split(' ');
        acks.push({ rev: Number(rev), key: key!, value, deleted: kind === 'del' });
      }
      if (!killed && acks.length >= minAcks) {
        killed = true;
        child.kill('SIGKILL'); // mid-stream: the writer is busy writing when this lands
      }
    });
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer made ${acks.length}/${minAcks} acks in 60 s (killed: ${killed}); stderr: ${stderr}`));
    }, 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`writer exited early (code ${code}, ${acks.length} acks): ${stderr}`));
    });
  });
}

describe('crash safety', () => {
  it('after SIGKILL mid-stream, no acknowledged write is missing and history is gap-free', async () => {
    const file = join(root, 'state.db');
    const all: Ack[] = [];
    // Three crashes in a row on the same file, each resuming where the last one died.
    for (const n of [1000, 1500, 2000]) all.push(...(await runAndKill(file, n)));

    const store = await openSqliteStore({ file });
    try {
      const current = await store.currentRevision();
      expect(all.length).toBeGreaterThanOrEqual(4500);
      for (const a of all) {
        expect(a.rev).toBeLessThanOrEqual(current);
        const at = await store.get(a.key, { revision: a.rev });
        if (a.deleted) {
          expect(at, `deleted ${a.key}@${a.rev}`).toBeUndefined();
        } else {
          expect(at?.modRevision, `${a.key}@${a.rev}`).toBe(a.rev);
          expect(at?.value.toString()).toBe(a.value);
        }
      }
      // A watcher replaying all history sees every revision once, in order.
      const rec = new WatchRecorder();
      const w = store.watch('/', { fromRevision: 1 }, rec.onMessage);
      // Revision 1 is the start (exclusive); replay delivers 2..current.
      await rec.until(() => rec.events.length === current - 1, `replay of ${current - 1} revisions`, 30_000);
      w.close();
      const revs = rec.events.map((e) => e.kv.modRevision);
      revs.forEach((r, i) => expect(r).toBe(i + 2));
    } finally {
      await store.close();
    }
  }, 240_000);
});
