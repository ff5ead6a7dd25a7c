/**
 * Where the console's files come from: the executable's assets (scripts/build-sea.ts puts the
 * output of scripts/build-console.ts there), or, in a source run (`node src/cli/main.ts`), the
 * same build made in memory on first use, by the script of the source checkout (esbuild is a
 * development dependency, so the executable never carries it).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EdgeosError } from '../../common/errors.ts';
import { runningAsSea, seaAsset } from '../../common/sea.ts';
import { CONSOLE_FILES, consoleAsset } from './types.ts';
import type { ConsoleAssets } from './types.ts';

const BUILD_SCRIPT = 'scripts/build-console.ts';

export async function loadConsoleAssets(): Promise<ConsoleAssets> {
  if (runningAsSea()) return new Map(CONSOLE_FILES.map((f) => [f, seaAsset(consoleAsset(f))!]));
  const script = sourceCheckoutFile(BUILD_SCRIPT);
  if (!script) throw new EdgeosError('SEA_CONSOLE_UNAVAILABLE', `${BUILD_SCRIPT} not found beside this source checkout (the executable carries the console; npm run build)`);
  // A computed specifier: bundlers leave it alone, so the script (and esbuild) stay out of bundles.
  const mod = (await import(pathToFileURL(script).href)) as { buildConsole(): Promise<ConsoleAssets> };
  return mod.buildConsole();
}

/** A file of the source checkout this process runs from (found from the program's path, then the working directory). */
function sourceCheckoutFile(rel: string): string | undefined {
  const starts = [process.argv[1] ? dirname(resolve(process.argv[1])) : undefined, process.cwd()];
  for (const start of starts) {
    let dir = start;
    for (let i = 0; dir !== undefined && i < 6; i++) {
      const p = join(dir, rel);
      if (existsSync(p)) return p;
      const up = dirname(dir);
      dir = up === dir ? undefined : up;
    }
  }
  return undefined;
}
