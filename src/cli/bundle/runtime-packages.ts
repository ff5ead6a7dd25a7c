// containerd, runc and the CNI plugins a bundle carries, taken from Debian packages: the installed
// ones (`dpkg -L`) when the bundle is for this machine's architecture, else the target's .deb files
// (`apt-get download pkg:<arch>`, or a directory given with --debs), unpacked with dpkg-deb.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EdgeosError, InvalidInputError } from '../../common/errors.ts';
import { ELF_MACHINE, elfMachine } from '../../common/elf.ts';
import type { BundleArch } from './options.ts';

interface RuntimePackage {
  readonly pkg: string;
  readonly files: readonly string[];
  /** Directory inside the bundle; install.sh knows both. */
  readonly dir: 'runtime/bin' | 'runtime/cni';
}

/**
 * What edgeos runs: containerd, its runc v2 shim and ctr (air-gap imports go through
 * `ctr images import`), runc, and the CNI plugins of its network (src/runtime/cni/conflist.ts:
 * bridge, host-local, portmap; loopback is set up by containerd's CRI itself).
 */
export const RUNTIME_PACKAGES: readonly RuntimePackage[] = [
  { pkg: 'containerd', files: ['containerd', 'containerd-shim-runc-v2', 'ctr'], dir: 'runtime/bin' },
  { pkg: 'runc', files: ['runc'], dir: 'runtime/bin' },
  { pkg: 'containernetworking-plugins', files: ['bridge', 'host-local', 'portmap', 'loopback'], dir: 'runtime/cni' },
];

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

export interface RuntimeSources {
  readonly components: readonly RuntimeComponent[];
  /** Removes what was downloaded or unpacked; the files are read before this is called. */
  cleanup(): void;
}

function run(file: string, args: string[], cwd?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', cwd, timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new EdgeosError('BUNDLE_TOOL_MISSING', `${file} not found: bundle create takes containerd, runc and the CNI plugins from Debian packages and needs dpkg (run it on Debian or Ubuntu)`);
  }
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? r.error?.message ?? '').trim() };
}

function isExecutableFile(p: string): boolean {
  try {
    if (!lstatSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function checkArch(file: string, arch: BundleArch, pkg: string): void {
  const m = elfMachine(file);
  if (m !== ELF_MACHINE[arch]) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `${file} (from ${pkg}) is not a linux/${arch} executable`);
}

function pick(p: RuntimePackage, paths: string[], arch: BundleArch, where: string): RuntimeFile[] {
  return p.files.map((name) => {
    const source = paths.find((f) => basename(f) === name && isExecutableFile(f));
    if (!source) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `package ${p.pkg} (${where}) has no executable ${name}`);
    checkArch(source, arch, p.pkg);
    return { path: `${p.dir}/${name}`, source };
  });
}

/** The build host's installed packages (bundle for this machine's architecture). */
function fromInstalled(arch: BundleArch): RuntimeComponent[] {
  return RUNTIME_PACKAGES.map((p) => {
    const q = run('dpkg-query', ['-W', '-f', '${Status}\t${Version}', `${p.pkg}:${arch}`]);
    const [status, version] = q.out.split('\t');
    if (!q.ok || status !== 'install ok installed' || !version) {
      throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `package ${p.pkg} is not installed on this machine: `
        + `apt-get install ${p.pkg} (or pass --debs DIR with the ${p.pkg}_*_${arch}.deb file)`);
    }
    const files = run('dpkg', ['-L', `${p.pkg}:${arch}`]).out.split('\n').filter(Boolean);
    return { package: p.pkg, version, from: 'installed', files: pick(p, files, arch, `installed ${version}`) };
  });
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else out.push(p);
  }
  return out;
}

/** .deb files of the target architecture, unpacked into `work`. */
function fromDebs(arch: BundleArch, debsDir: string, work: string, hint: string): RuntimeComponent[] {
  const names = readdirSync(debsDir);
  return RUNTIME_PACKAGES.map((p) => {
    const matches = names.filter((n) => n.startsWith(`${p.pkg}_`) && n.endsWith(`_${arch}.deb`));
    if (matches.length !== 1) {
      throw new EdgeosError('BUNDLE_RUNTIME_MISSING', matches.length === 0
        ? `no ${p.pkg}_*_${arch}.deb in ${debsDir}: ${hint}`
        : `several ${p.pkg} packages for ${arch} in ${debsDir} (${matches.join(', ')}): keep one`);
    }
    const deb = join(debsDir, matches[0]!);
    const version = run('dpkg-deb', ['-f', deb, 'Version']);
    const dest = join(work, p.pkg);
    const x = run('dpkg-deb', ['-x', deb, dest]);
    if (!version.ok || !x.ok) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `cannot unpack ${deb}: ${x.err || version.err}`);
    return { package: p.pkg, version: version.out.trim(), from: basename(deb), files: pick(p, walkFiles(dest), arch, basename(deb)) };
  });
}

export function collectRuntime(arch: BundleArch, hostArch: BundleArch | undefined, debs: string | undefined): RuntimeSources {
  if (debs === undefined && arch === hostArch) return { components: fromInstalled(arch), cleanup: () => {} };
  if (debs !== undefined && (!existsSync(debs) || !lstatSync(debs).isDirectory())) throw new InvalidInputError(`--debs: ${debs} is not a directory`);
  const work = mkdtempSync(join(tmpdir(), 'edgeos-bundle-debs-'));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  try {
    let dir = debs;
    const pkgs = RUNTIME_PACKAGES.map((p) => `${p.pkg}:${arch}`);
    if (dir === undefined) {
      dir = join(work, 'download');
      mkdirSync(dir);
      const r = run('apt-get', ['download', ...pkgs], dir);
      if (!r.ok) {
        throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `apt-get download ${pkgs.join(' ')} failed: ${r.err.split('\n').slice(-3).join(' ')}. `
          + `Enable the architecture first (dpkg --add-architecture ${arch} && apt-get update), or put the .deb files in a directory and pass --debs DIR`);
      }
    }
    return { components: fromDebs(arch, dir, work, `download them with \`apt-get download ${pkgs.join(' ')}\``), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
