// Compiles native/malloc.c, edgeos's own Node-API addon (malloc_trim and mallinfo2 for
// src/common/malloc.ts), for one arch: the host's gcc for the host, the Debian cross gcc for the
// other. The Node-API headers come from the pinned node-linux-* package's include/node (no header
// download: node-gyp would fetch them from the internet). docs/build.md, "The malloc addon".
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { EdgeosError, errorMessage } from '../src/common/errors.ts';

const root = resolve(import.meta.dirname, '..');
export const MALLOC_ADDON_SOURCE = join(root, 'native/malloc.c');

type Arch = 'amd64' | 'arm64';

const compilers: Record<Arch, { native: string; cross: string; crossPackages: string }> = {
  amd64: { native: 'gcc', cross: 'x86_64-linux-gnu-gcc', crossPackages: 'gcc-x86-64-linux-gnu libc6-dev-amd64-cross' },
  arm64: { native: 'gcc', cross: 'aarch64-linux-gnu-gcc', crossPackages: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross' },
};

function inPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch { /* next */ }
  }
  return undefined;
}

function hostArch(): Arch | undefined {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
}

/**
 * Compiles the addon for `arch` into `outFile`. `nodeInclude` is a node package's include/node
 * (node_api.h). The flags keep the output reproducible: no debug info (which would carry the
 * build's paths), stripped, so the same sources and compiler give the same bytes.
 */
export function buildMallocAddon(arch: Arch, outFile: string, nodeInclude: string): void {
  const c = compilers[arch];
  const native = hostArch() === arch;
  const cc = native ? c.native : c.cross;
  if (!inPath(cc)) {
    const pkgs = native ? 'gcc libc6-dev' : c.crossPackages;
    throw new EdgeosError('BUILD_TOOL_MISSING', `${cc} not found in PATH: install ${pkgs} (apt-get install ${pkgs}; scripts/setup.sh does)`);
  }
  try {
    execFileSync(cc, ['-shared', '-fPIC', '-O2', '-g0', '-std=c11', '-Wall', '-Wextra', '-Werror', '-s',
      '-Wl,-z,noexecstack', '-Wl,-z,relro,-z,now', `-I${nodeInclude}`, '-o', outFile, MALLOC_ADDON_SOURCE],
    { cwd: dirname(MALLOC_ADDON_SOURCE), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new EdgeosError('BUILD_STEP_FAILED', `compile ${MALLOC_ADDON_SOURCE} with ${cc}: ${stderr || errorMessage(err)}`, { cause: err });
  }
}

/** include/node of the host's pinned node-linux-* package (the bench and tests compile for the host). */
export function hostNodeInclude(): string {
  return join(root, 'node_modules', `node-linux-${process.arch}`, 'include/node');
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  // `node scripts/native-addon.ts <out.node>`: the host's addon, for running the agent from source
  // (EDGEOS_MALLOC_ADDON=<out.node>).
  const out = process.argv[2];
  const arch = hostArch();
  if (!out || !arch) {
    console.error('usage: node scripts/native-addon.ts <out.node> (on linux amd64 or arm64)');
    process.exitCode = 2;
  } else {
    buildMallocAddon(arch, resolve(out), hostNodeInclude());
  }
}
