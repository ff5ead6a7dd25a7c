// Compares two heap snapshots of the agent (bench/services with EDGEOS_BENCH_HEAP_SNAPSHOT):
// `node bench/services/heap-diff.mjs a.heapsnapshot b.heapsnapshot [rows]` prints, b minus a, the
// self sizes by node type and name (all strings as one row), and the bytecode (BytecodeArray with
// its constant pool, source positions and handler table) by function: which objects and which
// compiled functions one run holds that the other does not. Diagnosis only, never in the product.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const STRINGS = new Set(['string', 'concatenated string', 'sliced string']);
const BYTECODE_PARTS = new Set(['(constant pool)', '(source position table)', '(handler table)']);

function summarize(file) {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const m = s.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const types = m.node_types[0];
  const { nodes: N, edges: E, strings: S } = s;
  // Index of each node's first edge (edges are stored in node order).
  const firstEdge = new Uint32Array(N.length / nf + 1);
  for (let i = 0, e = 0; i < N.length; i += nf) {
    firstEdge[i / nf] = e;
    e += N[i + 4] * ef;
  }
  const children = (i) => {
    const out = [];
    const from = firstEdge[i / nf];
    for (let e = from; e < from + N[i + 4] * ef; e += ef) out.push(E[e + 2]);
    return out;
  };
  const add = (map, key, size) => {
    const r = map.get(key) ?? { size: 0, count: 0 };
    r.size += size;
    r.count++;
    map.set(key, r);
  };
  const byKind = new Map();
  const bytecode = new Map();
  for (let i = 0; i < N.length; i += nf) {
    const type = types[N[i]];
    const name = S[N[i + 1]];
    add(byKind, `${type}: ${STRINGS.has(type) ? '(strings)' : name.slice(0, 80)}`, N[i + 3]);
    // A SharedFunctionInfo is a `code` node named after its function; its bytecode hangs off it.
    if (type !== 'code' || name.startsWith('system /') || name.startsWith('(')) continue;
    let size = 0;
    for (const b of children(i)) {
      if (S[N[b + 1]] !== 'system / BytecodeArray') continue;
      size += N[b + 3];
      for (const part of children(b)) if (BYTECODE_PARTS.has(S[N[part + 1]])) size += N[part + 3];
    }
    if (size > 0) add(bytecode, name || '(anonymous)', size);
  }
  return { byKind, bytecode };
}

const [a, b, rowsArg] = process.argv.slice(2);
if (!a || !b) {
  process.stderr.write('usage: node bench/services/heap-diff.mjs a.heapsnapshot b.heapsnapshot [rows]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 40);
const A = summarize(a);
const B = summarize(b);
const kb = (x) => (x / 1024).toFixed(1);
function diff(x, y, title) {
  const keys = new Set([...x.keys(), ...y.keys()]);
  const d = [...keys].map((k) => ({ k, size: (y.get(k)?.size ?? 0) - (x.get(k)?.size ?? 0), count: (y.get(k)?.count ?? 0) - (x.get(k)?.count ?? 0) }));
  process.stdout.write(`\n${title}: b − a = ${kb(d.reduce((s, r) => s + r.size, 0))} KB\n`);
  for (const r of d.sort((p, q) => Math.abs(q.size) - Math.abs(p.size)).slice(0, rows)) process.stdout.write(`${kb(r.size).padStart(9)} KB ${String(r.count).padStart(6)}  ${r.k}\n`);
}
diff(A.byKind, B.byKind, 'self size by type and name');
diff(A.bytecode, B.bytecode, 'bytecode by function');
