// Bundles src/cli/main.ts (or another entry) and every dependency into dist/edgeos.cjs, the program
// both `npm start` and the single executable run. Native addons stay external: the SEA carries
// them as assets.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
let commit = process.env.EDGEOS_COMMIT ?? 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout: keep the env value */ }

export interface BundleOptions {
  /** The program's entry; build-sea's tests bundle a small probe through the same path. */
  entry?: string;
  outfile?: string;
  minify?: boolean;
  /** More packages left out (bench/agent resolves better-sqlite3 from node_modules instead). */
  external?: string[];
  /** Replaces the version compiled in (benches). */
  version?: string;
}

export async function bundle({ entry = 'src/cli/main.ts', outfile = 'dist/edgeos.cjs', minify = false, external = [], version = pkg.version }: BundleOptions = {}): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify,
    // errors.ts names errors after their class (new.target.name): minifying must keep names.
    keepNames: minify,
    sourcemap: false,
    legalComments: 'none',
    // grpc-js require()s @grpc/proto-loader only to serve channelz and ORCA from .proto files on
    // disk, which edgeos never does (and a SEA could not read); the CRI has its own codec.
    external: ['*.node', '@grpc/proto-loader', ...external],
    define: {
      __EDGEOS_VERSION__: JSON.stringify(version),
      __EDGEOS_COMMIT__: JSON.stringify(commit),
    },
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await bundle();
  console.log(`bundled ${out}`);
}
