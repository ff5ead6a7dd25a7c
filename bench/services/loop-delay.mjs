// Preloaded into the agent by bench/services with EDGEOS_BENCH_LOOP_DELAY=1 (`--import`; never in the
// product): the agent's event-loop delay (perf_hooks.monitorEventLoopDelay, sampled every 2 ms),
// printed as one JSON line on stderr and reset at each SIGUSR2, so the bench reads it per phase.
// Plain JavaScript: the agent's --lite-mode has no WebAssembly, which Node's TypeScript stripping needs.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import process from 'node:process';

const h = monitorEventLoopDelay({ resolution: 2 });
h.enable();
const ms = (ns) => Math.round(ns / 1e4) / 100;
process.on('SIGUSR2', () => {
  process.stderr.write(`${JSON.stringify({ loopDelayMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count } })}\n`);
  h.reset();
});
