// Start the real `edgeos server` as a child process and talk to it like kubectl does.
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { generateKeyPair, privateKeyToPem } from '../../../src/server/pki/keys.ts';
import { issueLeafCertificate } from '../../../src/server/pki/issue.ts';
import { loadPair, pairFiles } from '../../../src/server/pki/pair.ts';

export const REPO = resolve(import.meta.dirname, '../../..');
export const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';

export interface Child {
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

export function startEdgeos(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, [resolve(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((r) => proc.on('exit', (code, signal) => r(code ?? signal ?? -1)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Kills a child by PID if it is still running (afterAll safety net). */
export function killChild(c: Child | undefined): void {
  if (c?.proc.pid !== undefined && c.proc.exitCode === null && c.proc.signalCode === null) process.kill(c.proc.pid, 'SIGKILL');
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export interface HttpsResult {
  status: number;
  body: string;
}

export function get(port: number, path: string, opts: { ca: string; headers?: Record<string, string> }): Promise<HttpsResult> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, ca: opts.ca, headers: opts.headers, agent: false, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', rej);
    req.end();
  });
}

/** Polls until `check` passes, failing with the child's stderr if it exits or time runs out. */
export async function waitUntil(child: Child, what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`edgeos exited before ${what}:\n${child.stderr()}`);
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function kubectl(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(KUBECTL, args, { env: { HOME: home, PATH: '/usr/bin:/bin' }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/**
 * A copy of the admin kubeconfig for another user: a client certificate with `subject`, issued by
 * the cluster CA in `tlsDir` (as an administrator would with the CA key).
 */
export async function writeUserKubeconfig(adminKubeconfig: string, tlsDir: string, subject: string, out: string): Promise<void> {
  const ca = await loadPair(pairFiles(tlsDir, 'ca'), 'test');
  if (!ca) throw new Error(`no CA in ${tlsDir}`);
  const keys = await generateKeyPair();
  const cert = await issueLeafCertificate(ca, { subject, publicKey: keys.publicKey, usage: 'client', now: new Date() });
  const cfg = parse(readFileSync(adminKubeconfig, 'utf8'));
  cfg.users[0].user = {
    'client-certificate-data': Buffer.from(cert.toString('pem')).toString('base64'),
    'client-key-data': Buffer.from(await privateKeyToPem(keys.privateKey)).toString('base64'),
  };
  writeFileSync(out, stringify(cfg), { mode: 0o600 });
}
