// Builds the web console (src/server/console/app, docs/console.md) into its three files:
// index.html, app.js (one minified bundle of the application) and app.css. scripts/build-sea.ts
// embeds them in the executable; a source run of the server builds them in memory on first use
// (src/server/console/assets.ts), so both serve the same output. `node scripts/build-console.ts
// [dir]` writes them to dist/console/ (or dir) to look at.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { CONSOLE_FILES } from '../src/server/console/types.ts';
import type { ConsoleAssets, ConsoleFile } from '../src/server/console/types.ts';

const appDir = resolve(import.meta.dirname, '../src/server/console/app');

export async function buildConsole(): Promise<ConsoleAssets> {
  const out = await build({
    entryPoints: { app: join(appDir, 'main.ts'), 'app-style': join(appDir, 'style.css') },
    outdir: '/console',
    write: false,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // Browsers of the last few years (fetch streams, CSS custom properties, dialog).
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const files = new Map<ConsoleFile, Buffer>();
  for (const f of out.outputFiles) {
    if (f.path.endsWith('/app.js')) files.set('app.js', Buffer.from(f.contents));
    else if (f.path.endsWith('/app-style.css')) files.set('app.css', Buffer.from(f.contents));
  }
  files.set('index.html', readFileSync(join(appDir, 'index.html')));
  for (const f of CONSOLE_FILES) if (!files.has(f)) throw new Error(`the console build made no ${f}`);
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const dir = resolve(process.argv[2] ?? 'dist/console');
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of await buildConsole()) {
    writeFileSync(join(dir, name), body);
    console.log(`${join(dir, name)} ${(body.length / 1024).toFixed(1)} kB`);
  }
}
