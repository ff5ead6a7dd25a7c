// Enforces the dependency direction of ../shared/STYLE.md: cli → {server, agent}; server → store;
// agent → runtime (and store, for its offline cache); everything may use common. store, runtime and
// common never import server, agent or cli; server and agent never import each other.
// Also forbids import cycles between files. Type-only imports count: a cycle of types is still two
// files that cannot be understood (or moved) one without the other.
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

/**
 * Layers inside the server (docs/architecture.md): the storage layer sits below everything that
 * serves objects; the API and the agents' link/join endpoints never import each other (the API
 * reads the link through contracts in common: tunnel.ts, node-stats.ts).
 */
export const forbiddenInside: Record<string, readonly string[]> = {
  'server/storage': ['server/api', 'server/link', 'server/join', 'server/controllers'],
  'server/api': ['server/link', 'server/join'],
  'server/link': ['server/api'],
  'server/join': ['server/api'],
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

/** The server layer (server/<name>) a path belongs to, when it has rules. */
function layerOf(srcDir: string, file: string, layers: readonly string[]): string | undefined {
  const rel = relative(srcDir, file).split(sep).join('/');
  return layers.find((l) => rel.startsWith(`${l}/`));
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
        const target = resolve(dirname(file), spec);
        const to = subsystemOf(srcDir, target);
        if (to && !allowed[from]!.includes(to)) {
          out.push({ file: relative(process.cwd(), file), line: i + 1, spec, from, to });
        }
        const fromLayer = layerOf(srcDir, file, Object.keys(forbiddenInside));
        const toLayer = fromLayer && layerOf(srcDir, target, forbiddenInside[fromLayer]!);
        if (fromLayer && toLayer) out.push({ file: relative(process.cwd(), file), line: i + 1, spec, from: fromLayer, to: toLayer });
      }
    });
  }
  return out;
}

/** Relative imports of every source file below srcDir: absolute file → absolute imported files. */
function importGraph(srcDir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of walk(srcDir)) {
    const targets = new Set<string>();
    for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
      if (m[1]!.startsWith('.')) targets.add(resolve(dirname(file), m[1]!));
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/**
 * Every import cycle between files, each as the path that closes it (first → … → first), relative
 * to the working directory. One path per strongly connected component (Tarjan), which is enough to
 * name what to cut; fix it and the next run names the rest.
 */
export function findCycles(srcDir: string): string[][] {
  const graph = importGraph(srcDir);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return components.map((c) => cyclePath(graph, new Set(c), c.sort()[0]!).map((f) => relative(process.cwd(), f)));
}

/** A shortest path from `start` back to itself inside one component (breadth-first). */
function cyclePath(graph: Map<string, string[]>, inside: Set<string>, start: string): string[] {
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = from.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const src = resolve(process.argv[2] ?? 'src');
  const bad = checkTree(src);
  for (const v of bad) {
    console.error(`${v.file}:${v.line}: ${v.from} must not import ${v.to} ('${v.spec}'); see docs/architecture.md`);
  }
  const cycles = findCycles(src);
  for (const c of cycles) console.error(`import cycle: ${c.join(' → ')}; see docs/architecture.md`);
  if (bad.length || cycles.length) process.exit(1);
  console.log('check-deps: dependency direction ok, no import cycles');
}
