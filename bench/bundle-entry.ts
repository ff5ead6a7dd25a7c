// Benchmarks that measure memory run the code as the product ships it: bundled JavaScript. Running
// .ts directly makes Node load its TypeScript stripper (a WASM module, ~40 MB of RSS).
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

/** Bundles a TypeScript entry (npm packages stay external) and returns the .mjs path. */
export async function bundleEntry(entry: string): Promise<string> {
  const outDir = join(process.cwd(), '.cache', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, basename(entry).replace(/\.ts$/, '.mjs'));
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node24', format: 'esm', packages: 'external', logLevel: 'warning' });
  return outfile;
}
