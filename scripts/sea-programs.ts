// The two programs the single executable carries as assets (src/cli/sea-scripts.ts; docs/build.md,
// "Two programs"): each entry bundled, stored wrapped as the launcher compiles it, gzip-compressed
// where the table says, and given a V8 code cache where it has one and the build can make it.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PROGRAM_ASSETS, wrapCommonJs } from '../src/cli/sea-scripts.ts';
import type { Program } from '../src/cli/sea-scripts.ts';
import { executableFlags } from '../src/common/v8-flags.ts';
import { bundle } from './bundle.ts';

const root = resolve(import.meta.dirname, '..');
const entries: Record<Program, string> = { full: join(root, 'src/cli/main.ts'), agent: join(root, 'src/cli/agent-main.ts') };

/**
 * Run by the target's node under executableFlags: V8's code cache for a program asset, made from
 * exactly the text the launcher compiles (src/cli/sea-main.ts), before it runs (so only what V8
 * compiles eagerly is in it, as with useCodeCache).
 */
const makeCodeCache = `const fs = require('node:fs');
const [source, out, filename] = process.argv.slice(1);
const script = new (require('node:vm').Script)(fs.readFileSync(source, 'latin1'), { filename });
fs.writeFileSync(out, script.createCachedData());`;

/** A file's size as the build prints it. */
export function mb(file: string): string {
  return `${(statSync(file).size / 1e6).toFixed(1)} MB`;
}

/** Node arguments that write the code cache of the wrapped program `source` to `out`. */
export function codeCacheArgs(source: string, out: string, filename: string): string[] {
  return [...executableFlags, '-e', makeCodeCache, source, out, filename];
}

export interface ProgramsBuild {
  /** The build's temp dir. */
  work: string;
  minify: boolean;
  /** Runs the target's node with codeCacheArgs; absent when this machine cannot (a cross build without qemu). */
  codeCache?: { how: string; make(args: string[]): void };
  step(text: string): void;
}

/** Builds both programs into `work`; returns the sea-config assets (asset name → file). */
export async function bundlePrograms(b: ProgramsBuild): Promise<Record<string, string>> {
  const assets: Record<string, string> = {};
  for (const [program, entry] of Object.entries(entries) as [Program, string][]) {
    const names = PROGRAM_ASSETS[program];
    const out = join(b.work, names.script);
    await bundle({ entry, outfile: out, minify: b.minify });
    const wrapped = Buffer.from(wrapCommonJs(readFileSync(out, 'latin1')), 'latin1');
    writeFileSync(out, wrapped);
    const stored = names.gzip ? `${out}.gz` : out;
    if (names.gzip) writeFileSync(stored, gzipSync(wrapped, { level: 9 }));
    assets[names.script] = stored;
    let cache = 'no code cache';
    if (names.codeCache !== undefined && b.codeCache) {
      const cacheFile = join(b.work, names.codeCache);
      b.codeCache.make(codeCacheArgs(out, cacheFile, names.script));
      assets[names.codeCache] = cacheFile;
      cache = `code cache ${mb(cacheFile)} (made ${b.codeCache.how})`;
    }
    b.step(`bundle ${basename(entry)} → asset ${names.script}${b.minify ? ' (minified, names kept)' : ''}: ${mb(out)}`
      + `${names.gzip ? ` (${mb(stored)} gzip)` : ''}, ${cache}`);
  }
  return assets;
}
