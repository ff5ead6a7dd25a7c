// The single executable's main script (scripts/build-sea.ts): a few kB that answer --version,
// start a role again with its V8 flags, then run one of the two programs the executable carries
// (sea-scripts.ts) — the agent's for `join` and `agent`, the whole one for everything else.
import type * as SeaModule from 'node:sea';
import type * as ZlibModule from 'node:zlib';
import { Script } from 'node:vm';
import type { ErrorCode } from '../common/error-codes.ts';
import { relaunchForRole } from '../common/v8-flags.ts';
import { isVersionQuery, versionLine } from './build-info.ts';
import { PROGRAM_ASSETS, programFor } from './sea-scripts.ts';

/**
 * A view of an embedded asset (no copy), or undefined when the executable lacks it. Not
 * src/common/sea.ts's seaAsset: that module loads crypto, zlib and fs, which `--version` would pay for.
 */
function asset(sea: typeof SeaModule, name: string): Buffer | undefined {
  try {
    return Buffer.from(sea.getRawAsset(name));
  } catch {
    return undefined;
  }
}

type CommonJsFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

function launch(argv: string[]): void {
  if (isVersionQuery(argv)) {
    process.stdout.write(versionLine() + '\n');
    return;
  }
  relaunchForRole(argv);
  const sea = process.getBuiltinModule('node:sea') as typeof SeaModule;
  const names = PROGRAM_ASSETS[programFor(argv.slice(2))];
  const stored = asset(sea, names.script);
  if (!stored) {
    console.error(`edgeos: this executable carries no program "${names.script}"; build it with npm run build`);
    process.exitCode = 70;
    return;
  }
  const source = names.gzip ? (process.getBuiltinModule('node:zlib') as typeof ZlibModule).gunzipSync(stored) : stored;
  const cachedData = names.codeCache === undefined ? undefined : asset(sea, names.codeCache);
  // The bundles are ASCII (esbuild escapes the rest), so latin1 is exact and the fastest decoding.
  const script = new Script(source.toString('latin1'), { filename: names.script, ...(cachedData ? { cachedData } : {}) });
  if (script.cachedDataRejected) {
    // V8 takes a code cache only from its own version and flags: compiling costs ~0.15 s per start.
    process.emitWarning(`the code cache of ${names.script} was rejected; this start compiles it`, { code: 'SEA_CODE_CACHE_REJECTED' satisfies ErrorCode });
  }
  (script.runInThisContext() as CommonJsFunction)(exports, require, module, __filename, __dirname);
}

launch(process.argv);
