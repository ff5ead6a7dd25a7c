// Enforces the dependency direction of ../shared/STYLE.md: cli → {server, agent}; server → store;
// agent → runtime (and store, for its offline cache); everything may use common. store, runtime and
// common never import server, agent or cli; server and agent never import each other.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const allowed: Record<string, readonly string[]> = {
  common: ['common'],
  store: ['store', 'common'],
  runtime: ['runtime', 'common'],
  server: ['server', 'store', 'common'],
  agent: ['agent', 'runtime', 'store', 'common'],
  cli: ['cli', 'server', 'agent', 'store', 'runtime', 'common'],
};

export interface Violation { file: string; line: number; spec: string; from: string; to: string }

const importRe = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.(ts|mts|cts|js|mjs)$/.test(name)) yield p;
  }
}

/** The top-level subsystem (src/<name>/…) a path belongs to, or undefined outside src. */
function subsystemOf(srcDir: string, file: string): string | undefined {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..')) return undefined;
  const top = rel.split(sep)[0];
  return top !== undefined && top in allowed ? top : undefined;
}

export function checkTree(srcDir: string): Violation[] {
  const out: Violation[] = [];
  for (const file of walk(srcDir)) {
    const from = subsystemOf(srcDir, file);
    if (!from) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const m of text.matchAll(importRe)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) continue;
        const to = subsystemOf(srcDir, resolve(dirname(file), spec));
        if (to && !allowed[from]!.includes(to)) {
          out.push({ file: relative(process.cwd(), file), line: i + 1, spec, from, to });
        }
      }
    });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const bad = checkTree(resolve(process.argv[2] ?? 'src'));
  for (const v of bad) {
    console.error(`${v.file}:${v.line}: ${v.from} must not import ${v.to} ('${v.spec}'); see docs/architecture.md`);
  }
  if (bad.length) process.exit(1);
  console.log('check-deps: dependency direction ok');
}
