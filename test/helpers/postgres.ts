/**
 * A real PostgreSQL for tests and benches: Debian's postgresql (15) server binaries, `initdb` in a
 * temp dir, a free loopback port, the unix socket in the temp dir, TLS with a self-signed
 * certificate, password (scram-sha-256) authentication over TCP. PostgreSQL refuses to run as
 * root, so when the tests run as root the cluster belongs to the `postgres` user that Debian's
 * package creates. Stopped by PID; restartable on the same port and data (outage tests).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './start-server.ts';

/** Where Debian's postgresql package puts the server binaries (initdb, postgres). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export interface TestPostgres {
  readonly dir: string;
  readonly port: number;
  /** The superuser and its password (scram-sha-256 over TCP). */
  readonly user: string;
  readonly password: string;
  /** PEM of the self-signed certificate the server presents for 127.0.0.1 and localhost. */
  readonly caFile: string;
  readonly pid: number;
  /** postgres://user:password@127.0.0.1:port/<database>?sslmode=… */
  url(database: string, params?: Record<string, string>): string;
  /** Creates a fresh, empty database and returns its name. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs SQL as the superuser through psql (the unix socket) and returns its unaligned output. */
  psql(database: string, sql: string): string;
  /** Everything the server logged (for failure messages). */
  log(): string;
  /** Stops the server (fast shutdown: open connections are terminated) and waits for it. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

export interface PostgresOptions {
  /** Extra postgresql.conf settings; the default turns fsync off (tests need no durability). */
  settings?: Record<string, string>;
}

/** The uid/gid the cluster runs as: ourselves, or Debian's `postgres` user when we are root. */
function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root and there is no postgres user: install Debian\'s postgresql (scripts/setup.sh --test)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

let counter = 0;

export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/setup.sh --test');
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-pg-'));
  const who = owner();
  const own = (p: string) => who && chownSync(p, who.uid, who.gid);
  own(dir);
  const user = 'edgeos_admin';
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
  const data = join(dir, 'data');
  const run = (file: string, args: string[]) =>
    execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(who ?? {}), cwd: dir, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  try {
    writeFileSync(join(dir, 'pwfile'), password, { mode: 0o600 });
    own(join(dir, 'pwfile'));
    // Unix socket: trust (psql as the test's admin tool); TCP: passwords, as a real deployment.
    run(join(bin, 'initdb'), ['-D', data, '-U', user, `--pwfile=${join(dir, 'pwfile')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    // A self-signed certificate for the server (TLS tests verify it with sslmode=verify-full).
    const key = join(data, 'server.key');
    const cert = join(data, 'server.crt');
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=edgeos test postgres', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() ?? e.message}`, { cause: err });
  }
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, readFileSync(join(data, 'server.crt')));
  const port = await freePort();
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dir}'`,
    ssl: 'on',
    ssl_cert_file: "'server.crt'",
    ssl_key_file: "'server.key'",
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    shared_buffers: '32MB',
    log_min_messages: 'warning',
    ...opts.settings,
  };
  writeFileSync(join(data, 'postgresql.auto.conf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}\n`).join(''));

  let child: ChildProcess | undefined;
  let out = '';
  let exited: Promise<void> = Promise.resolve();
  const psql = (database: string, sql: string) =>
    execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', user, '-d', database, '-c', sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(who ?? {}),
    })
      .toString()
      .trim();

  async function start(): Promise<void> {
    const c = spawn(join(bin!, 'postgres'), ['-D', data], { stdio: ['ignore', 'pipe', 'pipe'], ...(who ?? {}), cwd: dir });
    child = c;
    c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited with ${c.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 60 s:\n${out}`);
      try {
        psql('postgres', 'SELECT 1');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    process.kill(c.pid, 'SIGINT'); // fast shutdown: terminates sessions, checkpoints, exits
    const killer = setTimeout(() => {
      if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGQUIT'); // immediate shutdown
    }, 15_000);
    await exited;
    clearTimeout(killer);
  }

  await start().catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    dir,
    port,
    user,
    password,
    caFile,
    get pid() {
      return child?.pid ?? 0;
    },
    url(database, params = { sslmode: 'disable' }) {
      const q = new URLSearchParams(params).toString();
      return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}${q ? `?${q}` : ''}`;
    },
    async createDatabase(prefix = 't') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      psql('postgres', `CREATE DATABASE ${name}`);
      return name;
    },
    psql,
    log: () => out,
    stop,
    restart: start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
