// Preloaded into the agent by bench/services with EDGEOS_BENCH_HEAP_STATS=1 (`--import`, with
// --expose-gc; never in the product): at each SIGWINCH (ignored by a process without the preload)
// the agent prints one JSON line on stderr — V8's heap by space and Node's memory counters, after
// two full GCs (the live heap, comparable between runs), and the RSS split before those GCs.
// With EDGEOS_BENCH_HEAP_SNAPSHOT=<file> it then writes a heap snapshot there (diagnosis:
// bench/services/heap-diff.mjs compares two). Plain JavaScript, as loop-delay.mjs (the agent's
// --lite-mode has no WebAssembly).
import { readFileSync } from 'node:fs';
import process from 'node:process';
import v8 from 'node:v8';

const mb = (b) => Math.round(b / 1024) / 1024;
const status = () => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
};
process.on('SIGWINCH', () => {
  const before = status();
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), { used: mb(s.space_used_size), size: mb(s.space_size) }]));
  const h = v8.getHeapStatistics();
  const c = v8.getHeapCodeStatistics();
  process.stderr.write(`${JSON.stringify({ heapStatsMb: { rssBeforeGc: before, rssAfterGc: status(), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), mallocedMemory: mb(h.malloced_memory), peakMallocedMemory: mb(h.peak_malloced_memory), bytecode: mb(c.bytecode_and_metadata_size), code: mb(c.code_and_metadata_size), spaces } })}\n`);
  if (!process.env.EDGEOS_BENCH_HEAP_SNAPSHOT) return;
  v8.writeHeapSnapshot(process.env.EDGEOS_BENCH_HEAP_SNAPSHOT);
  process.stderr.write(`${JSON.stringify({ heapSnapshot: process.env.EDGEOS_BENCH_HEAP_SNAPSHOT })}\n`);
});
