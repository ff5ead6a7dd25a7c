/**
 * Runs the real kubectl 1.32 against a test server with its own kubeconfig and discovery cache
 * (a fresh cache per server, so one test's discovery never leaks into another's).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { endStdin } from './stdin.ts';

export const KUBECTL = process.env.EDGEOS_TEST_KUBECTL ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlTarget {
  readonly kubeconfig: string;
  readonly cacheDir: string;
}

function baseArgs(t: KubectlTarget): string[] {
  return [`--kubeconfig=${t.kubeconfig}`, `--cache-dir=${t.cacheDir}`];
}

const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', KUBECTL_COMMAND_HEADERS: 'true' });

/** Run kubectl (another build with `bin`) to completion (stdin optional); never throws for a non-zero exit. */
export function kubectl(t: KubectlTarget, args: readonly string[], opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string>; bin?: string } = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(opts.bin ?? KUBECTL, [...baseArgs(t), ...args], { env: { ...env(), ...(opts.env ?? {}) }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') {
        reject(new Error(`kubectl ${args.join(' ')} failed to run: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
    endStdin(child, opts.stdin);
  });
}

/** Start a long-running kubectl (e.g. `get -w`); the caller stops it by PID with stop(). */
export function kubectlStream(t: KubectlTarget, args: readonly string[]): { child: ChildProcess; output(): string; stop(): Promise<void> } {
  const child = spawn(KUBECTL, [...baseArgs(t), ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}

/** Poll `check` until it returns true or the deadline passes (load-tolerant waits, no sleeps). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
