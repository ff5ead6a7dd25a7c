// Access to what the single executable (SEA) carries besides its script. A SEA's require() loads only
// built-in modules, so the better-sqlite3 addon travels as an asset and is written to disk once per
// build, then loaded with process.dlopen (the pattern of the Node SEA docs, "Using native addons").
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.ts';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type * as SeaModule from 'node:sea';
import { gunzipSync } from 'node:zlib';
import { EdgeosError, errorMessage } from './errors.ts';

/**
 * How scripts/build-sea.ts embeds the better-sqlite3 prebuild: gzip-compressed (2.3 → 1.1 MB of a
 * tight size budget; unpacking costs ~10 ms once per build), with the SHA-256 of the uncompressed
 * file beside it so a start can check an extracted copy without unpacking again.
 */
export const SQLITE_ADDON = { file: 'better_sqlite3.node', gzipAsset: 'better_sqlite3.node.gz', sha256Asset: 'better_sqlite3.node.sha256' } as const;

/** edgeos's own addon (native/malloc.c: malloc_trim, mallinfo2), embedded the same way. */
export const MALLOC_ADDON = { file: 'edgeos_malloc.node', gzipAsset: 'edgeos_malloc.node.gz', sha256Asset: 'edgeos_malloc.node.sha256' } as const;

/** An addon the executable carries gzip-compressed, with the SHA-256 of the uncompressed file. */
export interface EmbeddedAddon { readonly file: string; readonly gzipAsset: string; readonly sha256Asset: string }

export const DEFAULT_DATA_DIR = '/var/lib/edgeos';

/** installer/install.sh, embedded so `edgeos bundle create` from the executable can ship it. */
export const INSTALLER_ASSET = 'install.sh';

// getBuiltinModule works the same from ESM source, the CJS bundle and inside a SEA (whose require()
// would also do, but ESM has none). node:sea exists outside a SEA too; isSea() is false there.
function seaModule(): typeof SeaModule | undefined {
  const sea = process.getBuiltinModule('node:sea') as typeof SeaModule | undefined;
  return sea?.isSea() ? sea : undefined;
}

export function runningAsSea(): boolean {
  return seaModule() !== undefined;
}

/** A copy of an embedded asset; undefined when not running as a SEA. Throws if the SEA lacks it. */
export function seaAsset(name: string): Buffer | undefined {
  const sea = seaModule();
  if (!sea) return undefined;
  // Buffer.from(Uint8Array) copies; a view of the raw asset would alias the executable's memory.
  return Buffer.from(new Uint8Array(rawAsset(sea, name)));
}

function rawAsset(sea: typeof SeaModule, name: string): ArrayBuffer {
  try {
    // getRawAsset maps the bytes inside the executable without copying them.
    return sea.getRawAsset(name);
  } catch (err) {
    throw new EdgeosError('SEA_ASSET_MISSING', `this executable carries no asset "${name}" (was it built with npm run build?)`, { cause: err });
  }
}

export interface NativeBindingOptions {
  /** The data dir of the running mode (--data-dir); defaults to EDGEOS_DATA_DIR, then /var/lib/edgeos. */
  dataDir?: string;
}

// Loading the same addon twice would hand better-sqlite3 a second, uninitialised module object; the
// process keeps the first one, like Node's own require cache does for addons.
let loadedSqlite: object | undefined;

/**
 * The better-sqlite3 addon for `new Database(file, { nativeBinding })`: undefined when not running as
 * a SEA (better-sqlite3 then loads its own prebuild from node_modules), else the embedded prebuild,
 * extracted to <data-dir>/data/<sha256 prefix>/ and loaded from there.
 */
export function sqliteNativeBinding(opts: NativeBindingOptions = {}): object | undefined {
  const sea = seaModule();
  if (!sea) return undefined;
  loadedSqlite ??= loadEmbeddedAddon(sea, SQLITE_ADDON, opts);
  return loadedSqlite;
}

/**
 * An embedded addon's exports (extracted and loaded as for SQLite's), undefined when not running
 * as a SEA. Throws when it cannot be loaded. Load each addon once per process (as above).
 */
export function embeddedAddon(addon: EmbeddedAddon, opts: NativeBindingOptions = {}): object | undefined {
  const sea = seaModule();
  return sea ? loadEmbeddedAddon(sea, addon, opts) : undefined;
}

function loadEmbeddedAddon(sea: typeof SeaModule, addon: EmbeddedAddon, opts: NativeBindingOptions): object {
  const want = Buffer.from(rawAsset(sea, addon.sha256Asset)).toString('utf8').trim();
  // Content-addressed directory: a new build never reuses an older build's file, and two builds can
  // run side by side (an upgrade in progress) without touching each other's addon.
  const failures: string[] = [];
  for (const { base, shared } of extractionBases(opts)) {
    const dir = join(base, 'data', want.slice(0, 16));
    try {
      if (shared) claimPrivateDir(base);
      const file = extractOnce(dir, addon.file, want, () => unpack(sea, addon, want));
      const mod = { exports: {} as object };
      process.dlopen(mod, file);
      return mod.exports;
    } catch (err) {
      // A read-only or noexec mount (dlopen: "failed to map segment") fails here; try the next one.
      failures.push(`${dir}: ${errorMessage(err)}`);
    }
  }
  throw new EdgeosError('SEA_ADDON_LOAD', `cannot load the embedded ${addon.file}; tried ${failures.join('; ')}. `
    + 'Set EDGEOS_DATA_DIR (or --data-dir) to a writable directory on a filesystem mounted without noexec; '
    + 'the addon also needs glibc >= 2.34 and libstdc++ from GCC 11 or newer');
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function unpack(sea: typeof SeaModule, addon: EmbeddedAddon, want: string): Buffer {
  const bytes = gunzipSync(new Uint8Array(rawAsset(sea, addon.gzipAsset)));
  if (sha256Hex(bytes) !== want) {
    throw new EdgeosError('SEA_ASSET_CORRUPT', `the embedded ${addon.gzipAsset} does not unpack to SHA-256 ${want}: the executable is damaged`);
  }
  return bytes;
}

/** Where to extract, in order; `shared` marks a base in a world-writable parent such as /tmp. */
function extractionBases(opts: NativeBindingOptions): { base: string; shared: boolean }[] {
  const primary = opts.dataDir ?? process.env.EDGEOS_DATA_DIR ?? DEFAULT_DATA_DIR;
  return [{ base: primary, shared: false }, { base: join(tmpdir(), `edgeos-${userInfo().uid}`), shared: true }];
}

// In a world-writable parent another user could create our directory first and plant an addon that
// we would then load: use it only if it is ours and nobody else can write to it.
function claimPrivateDir(base: string): void {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const st = lstatSync(base);
  const uid = userInfo().uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new EdgeosError('SEA_ADDON_LOAD', `${base} is not a directory owned by uid ${uid} and writable only by it`);
  }
}

/** Writes dir/name from unpack() unless a file with the wanted SHA-256 is already there; returns the path. */
function extractOnce(dir: string, name: string, want: string, unpackBytes: () => Buffer): string {
  const file = join(dir, name);
  let existing: Buffer | undefined;
  try {
    existing = readFileSync(file);
  } catch { /* not extracted yet */ }
  // Hashing 2 MB costs ~2 ms and also catches a damaged or replaced file.
  if (existing && sha256Hex(existing) === want) return file;
  const bytes = unpackBytes();
  // Concurrent starts each write their own temp file and rename it into place: rename is atomic, so
  // a reader sees either no file or a complete one, never a partial write. No lock is needed.
  writeFileAtomic(file, bytes, 0o644);
  return file;
}

/**
 * The nativeBinding part of better-sqlite3's options: `new Database(file, { ...sqliteBindingOption() })`.
 * @types/better-sqlite3 9.6 types nativeBinding as a path only, while better-sqlite3 also takes the
 * loaded addon object (lib/binding.js getBinding); this is the one place that bridges the two.
 */
export function sqliteBindingOption(opts: NativeBindingOptions = {}): { nativeBinding?: string } {
  const binding = sqliteNativeBinding(opts);
  return binding === undefined ? {} : { nativeBinding: binding as unknown as string };
}
