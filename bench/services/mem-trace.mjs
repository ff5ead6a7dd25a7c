// Preloaded into the agent by bench/services with EDGEOS_BENCH_MEM_TRACE=<file> (`--import`; never
// in the product): every 100 ms, one line appended to <file> — the time (epoch ms mod 100 s, as
// the bench's RSS trace), VmRSS, RssAnon, V8's committed heap by space and its malloced memory,
// without forcing a GC. So the RSS sawtooth can be split into V8's pages and the rest (glibc's
// heap: SQLite's page cache, Node's buffers and handles). Plain JavaScript (the agent's
// --lite-mode has no WebAssembly).
import { appendFileSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { setInterval } from 'node:timers';
import v8 from 'node:v8';

const file = process.env.EDGEOS_BENCH_MEM_TRACE;
const kb = (s, k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
const mb = (b) => Math.round(b / 1024 / 102.4) / 10;
if (file) {
  const t = setInterval(() => {
    const s = readFileSync('/proc/self/status', 'utf8');
    const sp = {};
    for (const x of v8.getHeapSpaceStatistics()) if (x.space_size > 0) sp[x.space_name.replace(/_space$/, '')] = mb(x.space_size);
    const h = v8.getHeapStatistics();
    appendFileSync(file, `${Date.now() % 100_000} rss ${Math.round(kb(s, 'VmRSS') / 102.4) / 10} anon ${Math.round(kb(s, 'RssAnon') / 102.4) / 10} v8 ${mb(h.total_heap_size)} used ${mb(h.used_heap_size)} malloced ${mb(h.malloced_memory)} ${JSON.stringify(sp)}\n`);
  }, 100);
  t.unref();
}
