// Sums a sampling heap profile (alloc-prof.mjs) by the function that allocated (self) and by
// source file including callees (total, each file counted once per stack): which code allocates
// most. `node bench/services/alloc-summary.mjs <file.heapprofile> [rows] [bundle]`: with the
// agent's unminified bundle (EDGEOS_BENCH_MINIFY=0; the same source bundles to the same lines) a
// frame in it is named by the module esbuild's `// src/…` comment puts it in. Diagnosis only.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const rows = Number(process.argv[3] ?? 30);
// Bundle line → module (esbuild marks each module's start with a `// path` comment).
const starts = [];
if (process.argv[4]) {
  readFileSync(process.argv[4], 'utf8').split('\n').forEach((l, i) => {
    const m = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(l);
    if (m) starts.push([i, m[1]]);
  });
}
function moduleOf(line) {
  let lo = 0;
  let hi = starts.length - 1;
  let found;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid][0] <= line) {
      found = starts[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
const self = new Map();
const byFile = new Map();
let total = 0;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
const fileOf = (cf) => (starts.length && cf.url.endsWith('.cjs') ? (moduleOf(cf.lineNumber) ?? cf.url) : cf.url).split('/').slice(-2).join('/');
const where = (cf) => `${cf.functionName || '(anonymous)'} ${fileOf(cf)}:${cf.lineNumber + 1}`;
function walk(node, files) {
  const cf = node.callFrame;
  const size = node.selfSize;
  const f = cf.url ? fileOf(cf) : `(${cf.functionName || 'native'})`;
  const here = new Set(files).add(f);
  if (size) {
    total += size;
    add(self, where(cf), size);
    for (const x of here) add(byFile, x, size);
  }
  for (const c of node.children) walk(c, here);
}
walk(p.head, new Set());
const kb = (b) => `${Math.round(b / 1024)} KB`;
const say = (line) => process.stdout.write(`${line}\n`);
say(`sampled allocations: ${kb(total)}`);
say('-- by allocating function (self)');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) say(`${kb(v).padStart(10)}  ${k}`);
say('-- by file on the stack (inclusive)');
for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, rows)) say(`${kb(v).padStart(10)}  ${k}`);
