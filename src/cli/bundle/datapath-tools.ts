// nft and conntrack for the bundle (the Service datapath's tools, docs/services.md), and ethtool
// (the pod relay's, docs/podnet.md), from Debian's
// nftables and conntrack packages with the shared libraries they link against: unlike containerd
// they are dynamically linked (libnftables, libnftnl, libmnl, libjansson, libgmp, libedit,
// libnetfilter-conntrack, …) and a host without them lacks those too. The libraries are found by
// following each executable's DT_NEEDED entries (src/common/elf.ts) to the files that provide
// them, leaving out glibc's own (the edgeos executable already requires glibc ≥ 2.34, which these
// packages' symbol versions stay within). Sources as for the runtime (runtime-packages.ts): the
// installed packages for the build host's architecture, else .deb files — downloaded with their
// dependencies (`apt-cache depends --recurse`), or every `*_<arch>.deb` of --debs.
// install.sh puts them into /usr/local/lib/edgeos/{bin,lib} with a wrapper per tool in
// /usr/local/bin that points the loader at that lib directory, so no host library is shadowed.
//
// runc links libseccomp (a Yocto or Buildroot device may have none): the same walk carries it,
// and the bundle's copy of runc gets a RUNPATH to /usr/local/lib/edgeos/lib (patchelf) instead of
// a wrapper, because runc re-executes itself (`/proc/self/exe init`) with an environment of its
// own, where no LD_LIBRARY_PATH would survive. Any other runtime executable that needs more than
// glibc is treated the same way.
import { copyFileSync, existsSync, mkdirSync, realpathSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EdgeosError } from '../../common/errors.ts';
import { elfNeeded } from '../../common/elf.ts';
import type { BundleArch } from './options.ts';
import { checkArch, isExecutableFile, run, walkFiles } from './package-files.ts';
import type { RuntimeComponent, RuntimeFile } from './package-files.ts';

export const DATAPATH_TOOLS: readonly { readonly pkg: string; readonly exe: string }[] = [
  { pkg: 'nftables', exe: 'nft' },
  { pkg: 'conntrack', exe: 'conntrack' },
  // The pod relay turns the VXLAN device's transmit checksum offload off (docs/podnet.md).
  { pkg: 'ethtool', exe: 'ethtool' },
];

/** Where a package keeps its commands (ethtool's package also has an executable /etc/network/if-pre-up.d/ethtool script). */
const IN_BIN_DIR = /\/s?bin\/[^/]+$/;
/** glibc's own libraries: the target's are used, never shipped. */
const GLIBC = /^(ld-linux[-\w.]*\.so\.\d+|lib(c|m|dl|pthread|rt|resolv|util|anl|nsl|mvec|BrokenLocale)\.so\.\d+)$/;
/** Dependencies that are glibc or the compiler's runtime base, present on every glibc host. */
const BASE_PACKAGES = /^(libc6|libgcc-s1|gcc-\d+-base|libcrypt1)$/;
const TRIPLET: Record<BundleArch, string> = { amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
/** Where install.sh puts runtime/tools/lib ($TOOLS_DIR/lib): the RUNPATH of a runtime executable that needs a library. */
export const BUNDLE_LIB_DIR = '/usr/local/lib/edgeos/lib';
/** Packages of the runtime (runtime-packages.ts) whose executables link more than glibc. */
const LINKED_RUNTIME_PACKAGES = ['runc'];

interface Provider {
  readonly file: string;
  readonly pkg: string;
  readonly version: string;
  readonly from: string;
}

export interface BundleComponents {
  /** The runtime's components, with a RUNPATH-patched copy of each executable that needs a library. */
  readonly runtime: RuntimeComponent[];
  /** nft, conntrack, ethtool and every library any of them or the runtime needs. */
  readonly tools: RuntimeComponent[];
}

/**
 * Collects each tool and the libraries it and the runtime's executables need, transitively, from
 * `lookup` (soname → file and package); the tools come back as one component per package that
 * contributes a file.
 */
function closure(arch: BundleArch, exes: Provider[], runtime: readonly RuntimeComponent[], lookup: (soname: string, neededBy: string) => Provider, work: string): BundleComponents {
  const byPkg = new Map<string, { version: string; from: string; files: RuntimeFile[] }>();
  const add = (p: Provider, path: string) => {
    const c = byPkg.get(p.pkg) ?? { version: p.version, from: p.from, files: [] };
    c.files.push({ path, source: p.file });
    byPkg.set(p.pkg, c);
  };
  const seen = new Set<string>();
  const walk = (file: string, name: string, pkg: string) => {
    checkArch(file, arch, pkg);
    for (const soname of elfNeeded(file)) {
      if (GLIBC.test(soname) || seen.has(soname)) continue;
      seen.add(soname);
      const lib = lookup(soname, name);
      add(lib, `runtime/tools/lib/${soname}`);
      walk(lib.file, soname, lib.pkg);
    }
  };
  for (const e of exes) {
    const name = basename(e.file);
    add(e, `runtime/tools/bin/${name}`);
    walk(e.file, name, e.pkg);
  }
  const patched = runtime.map((c) => ({
    ...c,
    files: c.files.map((f) => {
      if (elfNeeded(f.source).every((soname) => GLIBC.test(soname))) return f;
      walk(f.source, basename(f.path), c.package);
      return { path: f.path, source: withRunpath(f.source, work) };
    }),
  }));
  return { runtime: patched, tools: [...byPkg].map(([pkg, c]) => ({ package: pkg, version: c.version, from: c.from, files: c.files })) };
}

/** A copy of `file` in `work` whose loader looks in BUNDLE_LIB_DIR first (DT_RUNPATH). */
function withRunpath(file: string, work: string): string {
  const dir = join(work, 'runpath');
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, basename(file));
  copyFileSync(file, copy);
  const r = run('patchelf', ['--set-rpath', BUNDLE_LIB_DIR, copy]);
  if (!r.ok) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `patchelf --set-rpath ${BUNDLE_LIB_DIR} ${basename(file)} failed: ${r.err}`);
  return copy;
}

function installedVersion(pkg: string, arch: BundleArch): string | undefined {
  const q = run('dpkg-query', ['-W', '-f', '${Status}\t${Version}', `${pkg}:${arch}`]);
  const [status, version] = q.out.split('\t');
  return q.ok && status === 'install ok installed' && version ? version : undefined;
}

/** The build host's installed packages (bundle for this machine's architecture). */
function fromInstalled(arch: BundleArch, runtime: readonly RuntimeComponent[], work: string): BundleComponents {
  const exes = DATAPATH_TOOLS.map((t) => {
    const version = installedVersion(t.pkg, arch);
    if (!version) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `package ${t.pkg} is not installed on this machine: apt-get install ${t.pkg} (or pass --debs DIR with its .deb and its libraries')`);
    const file = run('dpkg', ['-L', `${t.pkg}:${arch}`]).out.split('\n').find((f) => basename(f) === t.exe && IN_BIN_DIR.test(f) && isExecutableFile(f));
    if (!file) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `package ${t.pkg} (installed ${version}) has no executable ${t.exe}`);
    return { file, pkg: t.pkg, version, from: 'installed' };
  });
  const dirs = [`/lib/${TRIPLET[arch]}`, `/usr/lib/${TRIPLET[arch]}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
  return closure(arch, exes, runtime, (soname, neededBy) => {
    const found = dirs.map((d) => join(d, soname)).find((f) => existsSync(f));
    if (!found) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `${soname}, which ${neededBy} needs, is not in ${dirs.join(', ')}`);
    // dpkg knows a file by the path its package lists, which usrmerge may have moved.
    const candidates = [...new Set([found, realpathSync(found), found.replace(/^\/usr\//, '/'), found.replace(/^\/lib/, '/usr/lib')])];
    const pkg = dpkgOwner(candidates);
    const version = pkg ? installedVersion(pkg, arch) : undefined;
    if (!pkg || !version) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `${found} (${soname}, needed by ${neededBy}) belongs to no installed package`);
    return { file: realpathSync(found), pkg, version, from: 'installed' };
  }, work);
}

/**
 * The package that owns the first of `paths` dpkg knows, from ONE `dpkg -S` call: each call reads
 * every package's file list (about a second on a loaded machine), and a library may be listed
 * under any of its usrmerge spellings. dpkg exits 1 when some path is unknown but still prints the
 * others, as `pkg[, pkg…]:arch: /path` (a `diversion by …` line has no such form).
 */
function dpkgOwner(paths: readonly string[]): string | undefined {
  const owners = new Map<string, string>();
  for (const line of run('dpkg', ['-S', ...paths]).out.split('\n')) {
    const m = /^([^\s:,]+)[^:]*(?::[^:\s]+)?: (\/.*)$/.exec(line);
    if (m?.[1] && m[2] && !owners.has(m[2])) owners.set(m[2], m[1]);
  }
  return paths.map((p) => owners.get(p)).find((o) => o !== undefined);
}

/** The packages nftables, conntrack, ethtool and runc pull in, by name, without glibc's (and without runc, which runtime-packages.ts downloads). */
function dependencyClosure(arch: BundleArch): string[] {
  const r = run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances',
    ...[...DATAPATH_TOOLS.map((t) => t.pkg), ...LINKED_RUNTIME_PACKAGES].map((p) => `${p}:${arch}`)]);
  if (!r.ok) {
    throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `apt-cache depends ${DATAPATH_TOOLS.map((t) => t.pkg).join(' ')} for ${arch} failed: ${r.err.split('\n').slice(-2).join(' ')}. `
      + `Enable the architecture first (dpkg --add-architecture ${arch} && apt-get update), or pass --debs DIR`);
  }
  const names = r.out.split('\n').filter((l) => l && !l.startsWith(' ') && !l.startsWith('<')).map((l) => l.replace(/:.*$/, ''));
  return [...new Set(names)].filter((n) => !BASE_PACKAGES.test(n) && !LINKED_RUNTIME_PACKAGES.includes(n)).sort();
}

/** .deb files of the target architecture, unpacked into `work`: downloaded (with their dependencies), or every one in `debs`. */
function fromDebs(arch: BundleArch, runtime: readonly RuntimeComponent[], debs: string | undefined, work: string): BundleComponents {
  let dir = debs;
  if (dir === undefined) {
    dir = join(work, 'tools-download');
    const pkgs = dependencyClosure(arch).map((p) => `${p}:${arch}`);
    mkdirSync(dir, { recursive: true });
    const r = run('apt-get', ['download', ...pkgs], dir);
    if (!r.ok) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `apt-get download ${pkgs.join(' ')} failed: ${r.err.split('\n').slice(-3).join(' ')}`);
  }
  const debFiles = readdirSync(dir).filter((n) => n.endsWith(`_${arch}.deb`)).map((n) => join(dir, n));
  const sonames = new Map<string, Provider>();
  const exes: Provider[] = [];
  for (const deb of debFiles) {
    const f = run('dpkg-deb', ['-f', deb, 'Package', 'Version']);
    const pkg = /^Package: (\S+)$/m.exec(f.out)?.[1];
    const version = /^Version: (\S+)$/m.exec(f.out)?.[1];
    if (!f.ok || !pkg || !version || BASE_PACKAGES.test(pkg)) continue;
    const dest = join(work, 'tools', pkg);
    mkdirSync(dest, { recursive: true });
    const x = run('dpkg-deb', ['-x', deb, dest]);
    if (!x.ok) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `cannot unpack ${deb}: ${x.err}`);
    for (const file of walkFiles(dest)) {
      const name = basename(file);
      // A soname is usually a symlink (libfoo.so.1 → libfoo.so.1.2.3); walkFiles lists it like a file.
      if (/\.so(\.\d+)*$/.test(name) && /\/lib\//.test(file) && existsSync(file)) sonames.set(name, { file: realpathSync(file), pkg, version, from: basename(deb) });
      const tool = DATAPATH_TOOLS.find((t) => t.pkg === pkg && t.exe === name);
      if (tool && IN_BIN_DIR.test(file) && isExecutableFile(file)) exes.push({ file, pkg, version, from: basename(deb) });
    }
  }
  for (const t of DATAPATH_TOOLS) {
    if (!exes.some((e) => e.pkg === t.pkg)) {
      throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `no ${t.pkg}_*_${arch}.deb with ${t.exe} in ${dir}: download it and its libraries with \`apt-get download\` `
        + `(apt-cache depends --recurse ${t.pkg}:${arch} lists them)`);
    }
  }
  return closure(arch, exes, runtime, (soname, neededBy) => {
    const p = sonames.get(soname);
    if (!p) throw new EdgeosError('BUNDLE_RUNTIME_MISSING', `${soname}, which ${neededBy} needs, is in none of the .deb files in ${dir}: add the package that has it`);
    return p;
  }, work);
}

/**
 * nft, conntrack, ethtool and their libraries for `arch`, and the libraries of the runtime's
 * executables (runc's libseccomp) with those executables patched to find them; `work` is a
 * scratch directory the caller removes.
 */
export function collectDatapathTools(arch: BundleArch, hostArch: BundleArch | undefined, runtime: readonly RuntimeComponent[], debs: string | undefined, work: string): BundleComponents {
  if (debs === undefined && arch === hostArch) return fromInstalled(arch, runtime, work);
  return fromDebs(arch, runtime, debs, work);
}
