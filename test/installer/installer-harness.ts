// Runs installer/install.sh into a temporary EDGEOS_ROOT. Async (not spawnSync) so that a loopback
// HTTP server in the test process can answer the installer's downloads.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');
export const installScript = join(root, 'installer/install.sh');

export interface Result { status: number | null; stdout: string; stderr: string }

/** Runs a command; on timeout the child is killed by its PID and the promise rejects. */
export function runAsync(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Result> {
  return new Promise((ok, fail) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      fail(new Error(`${file} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); fail(err); });
    child.on('close', (status) => { clearTimeout(timer); ok({ status, stdout, stderr }); });
  });
}

/** The environment install.sh sees: only PATH and the given EDGEOS_* variables. */
export function installEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars };
}

export function install(vars: Record<string, string>, args: string[] = [], script = installScript): Promise<Result> {
  return runAsync('/bin/sh', [script, ...args], installEnv(vars));
}

/** Serves files of one directory on 127.0.0.1 (random port); 404 for anything missing. */
export async function serveDir(dir: string): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    requests.push(name);
    const file = join(dir, name);
    if (name.includes('/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, requests };
}
