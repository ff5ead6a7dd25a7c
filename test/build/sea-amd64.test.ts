// Builds the amd64 SEA once (plus a test-only probe SEA that opens SQLite the way the store does)
// and checks what a user of the executable relies on.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJoinToken } from '../../src/common/link/join-token.ts';
import { agentLaunchEnv, v8Flags } from '../../src/common/v8-flags.ts';
import { buildSea, cleanEnv, elfMachine, headCommit, probeEntry, root, run, sha256Prefix, versionLinePattern } from './sea-harness.ts';

const prebuild = join(root, 'node_modules/better-sqlite3/prebuilds/linux-x64.node');
const addonName = 'better_sqlite3.node';

describe.runIf(process.arch === 'x64')('linux/amd64 single executable', () => {
  let tmp: string;
  let exe: string;
  let probe: string;
  let commits: string[];

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-build-amd64-'));
    commits = [headCommit()];
    exe = buildSea(join(tmp, 'out'), ['--arch', 'amd64']);
    commits.push(headCommit());
    probe = buildSea(join(tmp, 'out'), ['--arch', 'amd64', '--entry', probeEntry, '--name', 'sqlite-probe']);
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lands as dist-style <name>-linux-amd64 and prints version, commit, Node and platform', () => {
    expect(basename(exe)).toBe('edgeos-linux-amd64');
    const r = run(exe, ['--version']);
    expect(r.stderr).toBe(''); // also: no "Code cache data rejected." warning
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(versionLinePattern('amd64', commits));
  });

  it('runs the full program from its asset with the code cache made for it', () => {
    // Any command but join/agent runs edgeos.cjs; a refused cache would warn on stderr (sea-main.ts).
    const r = run(exe, ['token', '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: edgeos token');
    // Under other code-generation flags V8 refuses it, and the start says so instead of silently
    // compiling 3 MB: the check above is not vacuous.
    const other = run(exe, ['--node-options=--no-lazy', 'token', '--help']);
    expect(other.stderr).toContain('SEA_CODE_CACHE_REJECTED');
    expect(other.stdout).toContain('Usage: edgeos token');
  });

  it('is a stripped x86-64 node with the SEA fuse flipped', () => {
    expect(elfMachine(exe)).toBe(0x3e);
    const sections = execFileSync('readelf', ['-S', '-W', exe]).toString();
    expect(sections).not.toContain('.symtab');
    expect(sections).toContain('.dynsym'); // addons resolve napi_* through it
    const bytes = readFileSync(exe);
    expect(bytes.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    expect(statSync(exe).mode & 0o111).toBe(0o111);
  });

  it('has a .sha256 beside it that sha256sum -c accepts, and rejects a changed binary', () => {
    const dir = dirname(exe);
    const ok = spawnSync('sha256sum', ['-c', 'edgeos-linux-amd64.sha256'], { cwd: dir, encoding: 'utf8' });
    expect(ok.stdout).toBe('edgeos-linux-amd64: OK\n');
    expect(ok.status).toBe(0);
    // Same file name, other content: the checksum must not match.
    const copyDir = join(tmp, 'tampered');
    mkdirSync(copyDir);
    writeFileSync(join(copyDir, 'edgeos-linux-amd64'), 'not the build');
    writeFileSync(join(copyDir, 'edgeos-linux-amd64.sha256'), readFileSync(`${exe}.sha256`));
    const bad = spawnSync('sha256sum', ['-c', 'edgeos-linux-amd64.sha256'], { cwd: copyDir, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });

  it('runs `edgeos server`: its store opens through the embedded addon and /readyz answers 200', async () => {
    const dataDir = join(tmp, 'server-data');
    const port = await freePort();
    const child = spawn(exe, ['server', '--data-dir', dataDir, '--https-listen-port', String(port), '--disable-agent',
      '--write-kubeconfig', join(tmp, 'kubeconfig.yaml')], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    try {
      const deadline = Date.now() + 45_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline && child.exitCode === null) {
        status = await readyz(port);
        if (status !== 200) await new Promise((ok) => setTimeout(ok, 50));
      }
      expect(status, `edgeos server never became ready; stderr:\n${stderr}`).toBe(200);
      expect(readFileSync(join(dataDir, 'data', sha256Prefix(prebuild), addonName)).equals(readFileSync(prebuild))).toBe(true);
    } finally {
      if (child.exitCode === null && child.pid) {
        process.kill(child.pid, 'SIGKILL');
        await new Promise((ok) => child.once('exit', ok));
      }
    }
  });

  it('runs `edgeos join` as the same process again with the agent\'s V8 flags and malloc tunables', async () => {
    // A server that accepts the join's connection and never answers keeps the agent waiting, so
    // its command line and environment can be read while it runs.
    const silent = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    const token = encodeJoinToken({ servers: [`https://127.0.0.1:${port}`], caHash: `sha256:${'0'.repeat(64)}`, tokenId: 'abcdef', tokenSecret: '0123456789abcdef' });
    const child = spawn(exe, ['join', token, '--data-dir', join(tmp, 'join-data')], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    try {
      const pid = child.pid!;
      const nodeOptions = `--node-options=${v8Flags.agent.join(' ')}`;
      let cmdline: string[] = [];
      for (const end = Date.now() + 20_000; Date.now() < end && child.exitCode === null; await new Promise((ok) => setTimeout(ok, 50))) {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (cmdline[1]?.startsWith(nodeOptions)) break;
      }
      expect(cmdline.slice(2, 3), `stderr: ${stderr}`).toEqual(['join']);
      expect(cmdline[1]).toBe(nodeOptions);
      // glibc parses GLIBC_TUNABLES in place, turning its ':' separators into NULs.
      const environ = `:${readFileSync(`/proc/${pid}/environ`, 'utf8').replaceAll('\0', ':')}`;
      for (const [k, v] of Object.entries(agentLaunchEnv)) expect(environ).toContain(`:${k}=${v}:`);
      expect(stderr).not.toMatch(/Code cache data rejected|bad option/);
    } finally {
      if (child.exitCode === null && child.pid) {
        process.kill(child.pid, 'SIGKILL');
        await new Promise((ok) => child.once('exit', ok));
      }
      silent.close();
    }
  });

  describe('SQLite through the embedded better-sqlite3 addon', () => {
    const hash = () => sha256Prefix(prebuild);

    function probeRun(dataDir: string, db: string, key: string, extraEnv: Record<string, string> = {}) {
      return run(probe, [db, key], { env: cleanEnv({ EDGEOS_DATA_DIR: dataDir, ...extraEnv }) });
    }

    it('extracts the addon once into <data-dir>/data/<sha256>/ and opens a database with it', () => {
      const dataDir = join(tmp, 'data-a');
      const db = join(tmp, 'a.db');
      const first = probeRun(dataDir, db, 'one');
      expect(first.stderr).toBe('');
      const prebuildSha = createHash('sha256').update(readFileSync(prebuild)).digest('hex');
      expect(JSON.parse(first.stdout)).toMatchObject({ sea: true, keys: ['one'], addonSha256: prebuildSha });
      const extracted = join(dataDir, 'data', hash(), addonName);
      expect(readFileSync(extracted).equals(readFileSync(prebuild))).toBe(true);
      // edgeos's malloc addon travels the same way and its calls work inside the executable.
      const malloc = (JSON.parse(first.stdout) as { malloc: { loaded: boolean; why: string; sha256: string; arena: number; trimmed: boolean } }).malloc;
      expect(malloc).toMatchObject({ loaded: true, why: 'embedded' });
      expect(malloc.arena).toBeGreaterThan(0);
      expect(typeof malloc.trimmed).toBe('boolean');
      const mallocFile = join(dataDir, 'data', malloc.sha256.slice(0, 16), 'edgeos_malloc.node');
      expect(createHash('sha256').update(readFileSync(mallocFile)).digest('hex')).toBe(malloc.sha256);
      expect(elfMachine(mallocFile)).toBe(0x3e);
      const before = statSync(extracted);

      const second = probeRun(dataDir, db, 'two');
      expect(JSON.parse(second.stdout)).toMatchObject({ sea: true, keys: ['one', 'two'] });
      const after = statSync(extracted);
      // Reused, not rewritten: same inode (a rewrite renames a new file into place).
      expect(after.ino).toBe(before.ino);
      expect(after.mtimeMs).toBe(before.mtimeMs);
    });

    it('replaces a damaged extracted addon', () => {
      const dataDir = join(tmp, 'data-b');
      const extracted = join(dataDir, 'data', hash(), addonName);
      mkdirSync(dirname(extracted), { recursive: true });
      writeFileSync(extracted, 'truncated');
      const r = probeRun(dataDir, join(tmp, 'b.db'), 'k');
      expect(JSON.parse(r.stdout)).toMatchObject({ sea: true, keys: ['k'] });
      expect(readFileSync(extracted).equals(readFileSync(prebuild))).toBe(true);
    });

    it('falls back to a private dir under TMPDIR when the data dir cannot be created', () => {
      const notADir = join(tmp, 'plain-file');
      writeFileSync(notADir, '');
      const tmpDir = join(tmp, 'tmpdir-c');
      mkdirSync(tmpDir);
      const r = probeRun(notADir, join(tmp, 'c.db'), 'k', { TMPDIR: tmpDir });
      expect(JSON.parse(r.stdout)).toMatchObject({ sea: true, keys: ['k'] });
      const base = join(tmpDir, `edgeos-${userInfo().uid}`);
      expect(statSync(base).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(base, 'data', hash(), addonName)).equals(readFileSync(prebuild))).toBe(true);
    });

    it('falls back when the data dir is on a noexec mount (dlopen cannot map it)', (ctx) => {
      const mnt = join(tmp, 'noexec');
      mkdirSync(mnt);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'noexec,size=16m', 'tmpfs', mnt]);
      if (mounted.status !== 0) ctx.skip('needs root with CAP_SYS_ADMIN to mount a noexec tmpfs');
      try {
        const tmpDir = join(tmp, 'tmpdir-d');
        mkdirSync(tmpDir);
        const r = probeRun(mnt, join(tmp, 'd.db'), 'k', { TMPDIR: tmpDir });
        expect(JSON.parse(r.stdout)).toMatchObject({ sea: true, keys: ['k'] });
        // It tried the data dir first (the file is there), then loaded the fallback copy.
        expect(statSync(join(mnt, 'data', hash(), addonName)).size).toBe(statSync(prebuild).size);
        expect(statSync(join(tmpDir, `edgeos-${userInfo().uid}`, 'data', hash(), addonName)).isFile()).toBe(true);
      } finally {
        spawnSync('umount', [mnt]);
      }
    });

    it('refuses a fallback dir owned by someone else and names every place it tried', (ctx) => {
      if (process.getuid?.() !== 0) ctx.skip('needs root to give a directory to another user');
      const notADir = join(tmp, 'plain-file-e');
      writeFileSync(notADir, '');
      const tmpDir = join(tmp, 'tmpdir-e');
      const planted = join(tmpDir, `edgeos-${userInfo().uid}`);
      mkdirSync(planted, { recursive: true });
      execFileSync('chown', ['65534', planted]);
      const r = probeRun(notADir, join(tmp, 'e.db'), 'k', { TMPDIR: tmpDir });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('cannot load the embedded better_sqlite3.node');
      expect(r.stderr).toContain(notADir);
      expect(r.stderr).toContain(`${planted} is not a directory owned by uid`);
      expect(r.stderr).toContain('EDGEOS_DATA_DIR');
    });
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise((ok) => srv.close(ok));
  return port;
}

/** GET /readyz without credentials (Kubernetes serves it to anyone); 0 when nothing answers. */
function readyz(port: number): Promise<number> {
  return new Promise((ok) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => ok(0));
    req.end();
  });
}
