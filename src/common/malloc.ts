/**
 * Giving glibc's free memory back to the kernel. free() returns pages only from the top of a heap;
 * chunks freed below live ones stay resident as "holes" until malloc_trim(0) walks the arenas and
 * madvises their whole pages away. In the agent those holes are what its RSS keeps after bursts of
 * work (pod churn, the PLEG's CRI answers, nghttp2 frames, V8 compiler zones): ~2.3 MB measured
 * (bench/agent/README.md). JavaScript cannot call malloc_trim, so edgeos carries its own tiny
 * Node-API addon (native/malloc.c), embedded in the executable like better-sqlite3's.
 *
 * The trimmer reads mallinfo2() every few seconds and trims after work that freed a lot (the free
 * bytes below the top chunk grew by 512 KiB since the last trim; at most every 10 s), and otherwise
 * once a minute while more than 1 MiB is free (a trim costs 0.04–0.22 ms of CPU: bench/agent/README.md). Without the addon (not a SEA and no
 * EDGEOS_MALLOC_ADDON, a noexec data dir and tmp, a libc without mallinfo2) it says so once and the
 * process runs on as before. EDGEOS_MALLOC_TRIM=off switches it off (bench/agent's A/B).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from './log.ts';
import { errorMessage } from './errors.ts';
import { MALLOC_ADDON, embeddedAddon } from './sea.ts';
import { MALLOC_TRIM } from './env-settings.ts';
import { periodicCheck, threadCpuSeconds } from './periodic-check.ts';
import type { Component } from './supervisor.ts';

/** mallinfo2(), in bytes, summed over every arena (ordblks is a count of free chunks). */
export interface MallocInfo {
  /** Bytes the arenas took with brk/mmap (not counting mmapped chunks). */
  readonly arena: number;
  readonly ordblks: number;
  /** Bytes in chunks mmapped one each (blocks above glibc.malloc.mmap_threshold). */
  readonly hblkhd: number;
  readonly uordblks: number;
  /** Free bytes in the arenas, the top chunk included. */
  readonly fordblks: number;
  /** The top chunk: what free() already trims by itself. */
  readonly keepcost: number;
}

export interface MallocAddon {
  /** malloc_trim(0); true when memory was released. */
  trim(): boolean;
  info(): MallocInfo;
}

export interface MallocAddonOptions {
  /** Where the single executable extracts the addon (--data-dir). */
  readonly dataDir?: string;
}

/** Free bytes that only malloc_trim returns: free chunks below the top chunk. */
export function holeBytes(m: MallocInfo): number {
  return Math.max(0, m.fordblks - m.keepcost);
}

const NO_ADDON = 'not running as the executable and EDGEOS_MALLOC_ADDON is not set';

let loaded: { addon: MallocAddon | undefined; why: string } | undefined;

/**
 * The addon, or undefined with the reason: inside the executable its embedded copy; outside it
 * (running from source, bench/agent) the file named by EDGEOS_MALLOC_ADDON, built with
 * `node scripts/native-addon.ts <file>`. Loaded once per process.
 */
export function loadMallocAddon(opts: MallocAddonOptions = {}): { addon: MallocAddon | undefined; why: string } {
  loaded ??= tryLoad(opts);
  return loaded;
}

function tryLoad(opts: MallocAddonOptions): { addon: MallocAddon | undefined; why: string } {
  if (process.platform !== 'linux') return { addon: undefined, why: 'not Linux' };
  try {
    const embedded = embeddedAddon(MALLOC_ADDON, opts);
    if (embedded) return { addon: checked(embedded), why: 'embedded' };
    const file = process.env.EDGEOS_MALLOC_ADDON;
    if (!file) return { addon: undefined, why: NO_ADDON };
    const mod = { exports: {} as object };
    process.dlopen(mod, file);
    return { addon: checked(mod.exports), why: file };
  } catch (err) {
    return { addon: undefined, why: errorMessage(err) };
  }
}

function checked(exports: object): MallocAddon {
  const a = exports as Partial<MallocAddon>;
  if (typeof a.trim !== 'function' || typeof a.info !== 'function') throw new Error('the addon exports no trim()/info()');
  return a as MallocAddon;
}

export interface MallocTrimmerOptions extends MallocAddonOptions {
  readonly log: Logger;
  /** How often mallinfo2 is read (default 5 s; a read walks glibc's free lists: microseconds). */
  readonly checkEveryMs?: number;
  /**
   * Work that freed a lot: the holes grew by this much since the last trim (default 512 KiB) —
   * trimmed at the next check, but not sooner than `burstIntervalMs` after the last trim.
   */
  readonly burstBytes?: number;
  readonly burstIntervalMs?: number;
  /**
   * Otherwise, while the holes exceed `thresholdBytes` (default 1 MiB), a trim every
   * `idleIntervalMs` (default 60 s): reused holes become resident again as the process runs.
   */
  readonly thresholdBytes?: number;
  readonly idleIntervalMs?: number;
  /** The addon to use (tests); default loadMallocAddon(). */
  readonly addon?: MallocAddon;
}

/** What the trimmer did; the agent's /metrics shows it. */
export interface MallocTrimStats {
  readonly available: boolean;
  readonly trims: number;
  /** CPU time of the calling thread spent in malloc_trim, seconds. */
  readonly trimSeconds: number;
  /** Resident bytes the trims gave back (the process's private resident memory just before minus just after each). */
  readonly releasedBytes: number;
  /** Holes at the last check, bytes (they stay counted as free after a trim: only their pages go). */
  readonly holeBytes: number;
  readonly arenaBytes: number;
}

export interface MallocTrimmer extends Component {
  stats(): MallocTrimStats;
  /** Checks now, under the same rules as the periodic check. */
  check(): void;
}

const PAGE = 4096;

/** The process's resident pages minus its shared (file-backed) ones, in bytes: /proc/self/statm. */
function privateResident(): number {
  try {
    const [, resident, shared] = readFileSync('/proc/self/statm', 'latin1').split(' ').map(Number);
    return ((resident ?? 0) - (shared ?? 0)) * PAGE;
  } catch {
    return 0;
  }
}

/** The process's trimmer as a supervised component (its timer is unref'd: it never holds the process). */
export function mallocTrimmer(o: MallocTrimmerOptions): MallocTrimmer {
  const burstBytes = o.burstBytes ?? 512 * 1024;
  const burstIntervalMs = o.burstIntervalMs ?? 10_000;
  const threshold = o.thresholdBytes ?? 1024 * 1024;
  const idleIntervalMs = o.idleIntervalMs ?? 60_000;
  const log = o.log.child({ component: 'malloc' });
  let addon: MallocAddon | undefined;
  let lastTrim = -Infinity;
  // The fewest holes seen since the last trim: growth above it is memory freed since.
  let baseline = 0;
  let trims = 0;
  let trimSeconds = 0;
  let releasedBytes = 0;
  let last: MallocInfo | undefined;

  const check = (): void => {
    if (!addon) return;
    last = addon.info();
    const holes = holeBytes(last);
    baseline = Math.min(baseline, holes);
    const since = performance.now() - lastTrim;
    const burst = holes - baseline >= burstBytes && since >= burstIntervalMs;
    const idle = holes >= threshold && since >= idleIntervalMs;
    if (!burst && !idle) return;
    const rssBefore = privateResident();
    const a = addon;
    trimSeconds += threadCpuSeconds(() => a.trim());
    releasedBytes += Math.max(0, rssBefore - privateResident());
    lastTrim = performance.now();
    baseline = holes;
    trims++;
  };

  const component = periodicCheck({
    name: 'malloc-trim',
    log,
    everyMs: o.checkEveryMs ?? 5_000,
    off: MALLOC_TRIM,
    offMessage: 'malloc_trim switched off (EDGEOS_MALLOC_TRIM=off)',
    prepare: () => {
      if (o.addon) {
        addon = o.addon;
        return true;
      }
      const r = loadMallocAddon(o);
      addon = r.addon;
      if (addon) log.debug({ from: r.why }, 'malloc addon loaded: freed memory goes back to the kernel');
      // A run from source without EDGEOS_MALLOC_ADDON is development, not a failure: debug only.
      else if (r.why === NO_ADDON) log.debug({ reason: r.why }, 'malloc addon not loaded: glibc keeps freed memory');
      else log.info({ reason: r.why }, 'malloc addon not loaded: glibc keeps freed memory (the process runs on without it)');
      return addon !== undefined;
    },
    check,
  });
  return {
    ...component,
    check,
    stats: () => ({
      available: addon !== undefined,
      trims,
      trimSeconds,
      releasedBytes,
      holeBytes: last ? holeBytes(last) : 0,
      arenaBytes: last ? last.arena + last.hblkhd : 0,
    }),
  };
}
