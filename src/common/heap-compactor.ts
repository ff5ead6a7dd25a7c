/**
 * Giving V8's free old-space pages back after bursts of work. A full GC frees objects but leaves
 * the pages they sat on committed and resident when live objects remain on them (V8 moves objects
 * off sparse pages only in a memory-reducing GC, which its memory reducer schedules when it sees
 * the process idle). In the agent on the emulated arm64 gateway it never did: during a start of 20
 * pods old space grew to 14.6 MB committed for 9.3 MB used and stayed so (docs/arm64.md, "Memory").
 *
 * So, like the malloc trimmer (malloc.ts), the process checks every few seconds and, when no
 * compaction ran for `intervalMs` and either old space holds at least `thresholdBytes` more than it
 * uses (sparse pages) or what it uses grew by `growthBytes` over the least it used since the last
 * compaction (garbage that a burst promoted and V8 leaves until its allocation limit — with live
 * data of 8 MB that limit can be twice as much), runs a memory-reducing GC (`gc({ flavor: 'last-resort' })`: V8's CollectAllAvailableGarbage, which
 * compacts and releases the emptied pages). It needs the `gc` function (`--expose-gc`, in
 * v8Flags.agent); without it the component says so once and does nothing.
 * EDGEOS_HEAP_COMPACT=off switches it off (the A/B of bench/agent and bench/arm64).
 */
import { getHeapSpaceStatistics } from 'node:v8';
import type { Logger } from './log.ts';
import { HEAP_COMPACT } from './env-settings.ts';
import { periodicCheck, threadCpuSeconds } from './periodic-check.ts';
import type { Component } from './supervisor.ts';

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

export interface HeapCompactorOptions {
  readonly log: Logger;
  /** How often V8's space statistics are read (default 5 s; microseconds each). */
  readonly checkEveryMs?: number;
  /** Old space committed minus used that asks for a compaction (default 3 MiB). */
  readonly thresholdBytes?: number;
  /** Old space used above the least seen since the last compaction that asks for one (default 2 MiB). */
  readonly growthBytes?: number;
  /** At most one compaction per this (default 60 s). */
  readonly intervalMs?: number;
  /** The gc function (tests); default globalThis.gc, present under --expose-gc. */
  readonly gc?: GcFunction;
}

export interface HeapCompactStats {
  readonly available: boolean;
  readonly compactions: number;
  /** CPU time of the main thread spent in them, seconds. */
  readonly cpuSeconds: number;
  /** Old-space bytes committed before minus after, summed. */
  readonly releasedBytes: number;
}

export interface HeapCompactor extends Component {
  stats(): HeapCompactStats;
  check(): void;
}

/** Old space's committed and used bytes now. */
export function oldSpace(): { committed: number; used: number } {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'old_space');
  return { committed: s?.space_size ?? 0, used: s?.space_used_size ?? 0 };
}

export function heapCompactor(o: HeapCompactorOptions): HeapCompactor {
  const threshold = o.thresholdBytes ?? 3 * 1024 * 1024;
  const growth = o.growthBytes ?? 2 * 1024 * 1024;
  const intervalMs = o.intervalMs ?? 60_000;
  const log = o.log.child({ component: 'heap-compact' });
  let gc: GcFunction | undefined;
  let last = -Infinity;
  let compactions = 0;
  let cpuSeconds = 0;
  let releasedBytes = 0;
  /** The least old space used since the last compaction: about the live data after V8's own full GCs. */
  let floor = Infinity;

  const check = (): void => {
    if (!gc) return;
    const before = oldSpace();
    floor = Math.min(floor, before.used);
    if (performance.now() - last < intervalMs) return;
    if (before.committed - before.used < threshold && before.used - floor < growth) return;
    const collect = gc;
    cpuSeconds += threadCpuSeconds(() => collect({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
    last = performance.now();
    compactions++;
    const after = oldSpace();
    releasedBytes += Math.max(0, before.committed - after.committed);
    floor = after.used;
  };

  const component = periodicCheck({
    name: 'heap-compact',
    log,
    everyMs: o.checkEveryMs ?? 5_000,
    off: HEAP_COMPACT,
    offMessage: 'heap compaction switched off (EDGEOS_HEAP_COMPACT=off)',
    prepare: () => {
      gc = o.gc ?? (globalThis as { gc?: GcFunction }).gc;
      if (!gc) log.debug('no gc function (not started with --expose-gc): V8 keeps its sparse old-space pages');
      return gc !== undefined;
    },
    check,
  });
  return {
    ...component,
    check,
    stats: () => ({ available: gc !== undefined, compactions, cpuSeconds, releasedBytes }),
  };
}
