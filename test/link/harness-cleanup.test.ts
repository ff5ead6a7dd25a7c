// The harness's server directories (on /dev/shm in bench/fleet) and processes end with the process
// that started them, also when it never reaches dispose(): killed by a signal it does not handle,
// or when the server does not start.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../helpers/process-end.ts';
import { serverProcess, waitFor } from './harness.ts';

const parent = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'edgeos-hygiene-cleanup-'));
const started: number[] = [];
afterAll(() => {
  // A server the fix failed to stop must not outlive the test either.
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  rmSync(parent, { recursive: true, force: true });
});

describe('serverProcess cleanup', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)('removes the directory and stops the server when its owner dies of %s', async (sig) => {
    const owner = spawn(process.execPath, [join(import.meta.dirname, 'fixtures/server-until-killed.ts'), parent], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    owner.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => owner.once('exit', (_code, s) => r(s)));
    const { dir, pid } = await waitFor('the server to start', () => (out.includes('\n') ? JSON.parse(out) as { dir: string; pid: number } : undefined), 90_000);
    started.push(pid);
    expect(existsSync(join(dir, 'data', 'server'))).toBe(true);

    owner.kill(sig);
    // It still dies of the signal (the default action), after the cleanup.
    expect(await exited).toBe(sig);
    expect(existsSync(dir)).toBe(false);
    await waitFor('the orphaned server to exit', () => (processAlive(pid) ? undefined : true), 20_000);
  }, 120_000);

  it('removes the directory of a server that does not start', async () => {
    const before = readdirSync(parent);
    await expect(serverProcess(['--cluster-cidr', 'not-a-cidr'], { parentDir: parent })).rejects.toThrow(/--cluster-cidr/);
    expect(readdirSync(parent)).toEqual(before);
  }, 90_000);
});
