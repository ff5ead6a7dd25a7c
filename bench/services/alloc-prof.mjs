// Preloaded into the agent by bench/services with EDGEOS_BENCH_ALLOC_PROF=<file> (`--import`;
// never in the product): V8's sampling heap profiler from the agent's start, counting objects that
// GCs collected too (so it profiles what the agent allocates, not what it keeps; EDGEOS_BENCH_ALLOC_HELD=1
// the opposite); at SIGWINCH the
// profile is written to <file> (`.heapprofile`, Chrome DevTools' format; alloc-summary.mjs sums
// it by function and by source file) and sampling starts over. Plain JavaScript (--lite-mode).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import process from 'node:process';

const file = process.env.EDGEOS_BENCH_ALLOC_PROF;
// EDGEOS_BENCH_ALLOC_HELD=1: only what the heap still holds when the profile is written (live, or
// garbage no GC has collected yet) — what an RSS reading at that moment pays for.
const held = process.env.EDGEOS_BENCH_ALLOC_HELD === '1';
// EDGEOS_BENCH_ALLOC_PROMOTED=1: what no scavenge collected — objects that lived long enough to be
// promoted to the old generation (or were still young at the end): the old space's growth between
// two full GCs, the RSS sawtooth's rising edge.
const promoted = process.env.EDGEOS_BENCH_ALLOC_PROMOTED === '1';
if (file) {
  const s = new Session();
  s.connect();
  const start = () => s.post('HeapProfiler.startSampling', { samplingInterval: Number(process.env.EDGEOS_BENCH_ALLOC_INTERVAL ?? 8192), includeObjectsCollectedByMajorGC: !held, includeObjectsCollectedByMinorGC: !held && !promoted });
  s.post('HeapProfiler.enable');
  start();
  let n = 0;
  process.on('SIGWINCH', () => {
    s.post('HeapProfiler.stopSampling', (err, r) => {
      if (!err) writeFileSync(`${file}.${++n}.heapprofile`, JSON.stringify(r.profile));
      process.stderr.write(`${JSON.stringify({ allocProfile: err ? String(err) : `${file}.${n}.heapprofile` })}\n`);
      start();
    });
  });
}
