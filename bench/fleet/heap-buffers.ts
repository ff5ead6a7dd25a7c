// What holds the ArrayBuffers of a V8 heap snapshot (mem-probe.ts --snapshot): every backing store
// ("system / JSArrayBufferData" and the like) summed by the chain of its first retainers, named by
// constructor and edge, heaviest first.
//
//   node bench/fleet/heap-buffers.ts <file.heapsnapshot> [--depth 6] [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { depth: { type: 'string', default: '6' }, top: { type: 'string', default: '25' } } });
const file = positionals[0];
if (!file) throw new Error('usage: heap-buffers.ts <file.heapsnapshot>');
interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number };
  nodes: number[];
  edges: number[];
  strings: string[];
}
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const nf = s.snapshot.meta.node_fields;
const ef = s.snapshot.meta.edge_fields;
const NF = nf.length;
const EF = ef.length;
const [nType, nName, nSelf, nEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f)) as [number, number, number, number];
const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f)) as [number, number, number];
const nodeTypes = s.snapshot.meta.node_types[0];
const edgeTypes = s.snapshot.meta.edge_types[0];
const count = s.nodes.length / NF;
// Retainers: for each node, the (from node, edge) pairs pointing at it (weak edges left out).
const firstEdge = new Uint32Array(count + 1);
for (let i = 0; i < count; i++) firstEdge[i + 1] = firstEdge[i]! + s.nodes[i * NF + nEdges]!;
const retainers: { from: number; edge: number }[][] = Array.from({ length: count }, () => []);
for (let i = 0; i < count; i++) {
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e++) {
    const type = edgeTypes[s.edges[e * EF + eType]!];
    if (type === 'weak') continue;
    const to = s.edges[e * EF + eTo]! / NF;
    retainers[to]!.push({ from: i, edge: e });
  }
}
const name = (i: number) => s.strings[s.nodes[i * NF + nName]!]!;
const type = (i: number) => nodeTypes[s.nodes[i * NF + nType]!]!;
const edgeName = (e: number) => {
  const t = edgeTypes[s.edges[e * EF + eType]!];
  const v = s.edges[e * EF + eName]!;
  return t === 'element' || t === 'hidden' ? `[${v}]` : s.strings[v]!;
};
const depth = Number(values.depth);
const groups = new Map<string, { bytes: number; n: number }>();
let total = 0;
for (let i = 0; i < count; i++) {
  if (type(i) !== 'native' || !/ArrayBuffer|BackingStore/.test(name(i))) continue;
  const bytes = s.nodes[i * NF + nSelf]!;
  total += bytes;
  // The chain of first retainers, skipping the ArrayBuffer / typed array wrappers' own edges.
  const path: string[] = [];
  let at = i;
  const seen = new Set<number>();
  while (path.length < depth) {
    const r = retainers[at]!.find((x) => !seen.has(x.from) && type(x.from) !== 'synthetic');
    if (!r) break;
    seen.add(r.from);
    path.push(`${name(r.from)}.${edgeName(r.edge)}`);
    at = r.from;
  }
  const key = path.join(' ← ');
  const g = groups.get(key) ?? { bytes: 0, n: 0 };
  g.bytes += bytes;
  g.n++;
  groups.set(key, g);
}
console.log(`backing stores: ${(total / 1048576).toFixed(1)} MB`);
for (const [k, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
  console.log(`${(g.bytes / 1048576).toFixed(2).padStart(7)} MB ${String(g.n).padStart(6)}×  ${k}`);
}
