// What the bundle's package collectors share (runtime-packages.ts, datapath-tools.ts): the files a
// package contributes, running dpkg/apt, and checks of what a package holds.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeosError } from '../../common/errors.ts';
import { ELF_MACHINE, elfMachine } from '../../common/elf.ts';
import type { BundleArch } from './options.ts';

export interface RuntimeFile {
  /** Path inside the bundle, e.g. runtime/bin/containerd. */
  readonly path: string;
  readonly source: string;
}

export interface RuntimeComponent {
  readonly package: string;
  readonly version: string;
  /** "installed" or the .deb file's name. */
  readonly from: string;
  readonly files: readonly RuntimeFile[];
}

export function run(file: string, args: string[], cwd?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', cwd, timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new EdgeosError('BUNDLE_TOOL_MISSING', file === 'patchelf'
      ? 'patchelf not found: bundle create points the bundled runc at the libseccomp it carries with it (apt-get install patchelf)'
      : `${file} not found: bundle create takes containerd, runc, the CNI plugins, nftables and conntrack from Debian packages and needs dpkg and apt (run it on Debian or Ubuntu)`);
  }
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? r.error?.message ?? '').trim() };
}

export function isExecutableFile(p: string): boolean {
  try {
    if (!lstatSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function checkArch(file: string, arch: BundleArch, pkg: string): void {
  const m = elfMachine(file);
  if (m !== ELF_MACHINE[arch]) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `${file} (from ${pkg}) is not a linux/${arch} ELF file`);
}

export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else out.push(p);
  }
  return out;
}
