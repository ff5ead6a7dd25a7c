// containerd, runc and the CNI plugins a bundle carries, taken from Debian packages: the installed
// ones (`dpkg -L`) when the bundle is for this machine's architecture, else the target's .deb files
// (`apt-get download pkg:<arch>`, or a directory given with --debs), unpacked with dpkg-deb. nft
// and conntrack, which need their libraries too, come the same way (datapath-tools.ts), which also
// adds runc's libseccomp and points the bundle's runc at it.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EdgeosError, InvalidInputError } from '../../common/errors.ts';
import { collectDatapathTools } from './datapath-tools.ts';
import type { BundleArch } from './options.ts';
import { checkArch, isExecutableFile, run, walkFiles } from './package-files.ts';
import type { RuntimeComponent, RuntimeFile } from './package-files.ts';

export type { RuntimeComponent, RuntimeFile } from './package-files.ts';

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

export interface RuntimeSources {
  readonly components: readonly RuntimeComponent[];
  /** Removes what was downloaded or unpacked; the files are read before this is called. */
  cleanup(): void;
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

/**
 * containerd, runc, the CNI plugins, and nft and conntrack with their libraries
 * (datapath-tools.ts), for `arch`; runc's libseccomp among those libraries.
 */
export function collectRuntime(arch: BundleArch, hostArch: BundleArch | undefined, debs: string | undefined): RuntimeSources {
  if (debs !== undefined && (!existsSync(debs) || !lstatSync(debs).isDirectory())) throw new InvalidInputError(`--debs: ${debs} is not a directory`);
  const work = mkdtempSync(join(tmpdir(), 'edgeos-bundle-debs-'));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  try {
    const { runtime, tools } = collectDatapathTools(arch, hostArch, runtimeComponents(arch, hostArch, debs, work), debs, work);
    return { components: [...runtime, ...tools], cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

function runtimeComponents(arch: BundleArch, hostArch: BundleArch | undefined, debs: string | undefined, work: string): RuntimeComponent[] {
  if (debs === undefined && arch === hostArch) return fromInstalled(arch);
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
  return fromDebs(arch, dir, work, `download them with \`apt-get download ${pkgs.join(' ')}\``);
}
