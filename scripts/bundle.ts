// Bundles src/cli/main.ts and every dependency into dist/edgeos.cjs, the program both `npm start`
// and the single executable run. Native addons stay external: the SEA carries them as assets.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
let commit = process.env.EDGEOS_COMMIT ?? 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout: keep the env value */ }

export async function bundle({ outfile = "dist/edgeos.cjs", minify = false }: { outfile?: string; minify?: boolean } = {}): Promise<string> {
  await build({
    entryPoints: ['src/cli/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify,
    sourcemap: false,
    legalComments: 'none',
    external: ['*.node'],
    define: {
      __EDGEOS_VERSION__: JSON.stringify(pkg.version),
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
