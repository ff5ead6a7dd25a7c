/**
 * The lifecycle the process's memory reclaimers share (the malloc trimmer, malloc.ts, and the heap
 * compactor, heap-compactor.ts): a supervised component that, unless its environment variable
 * says `off`, finds its means once at start (the addon, the gc function) and then runs a cheap
 * check on an unref'd timer (it never holds the process), doing the costly work only when the
 * check's rule asks; and the main thread's CPU time that work took, for its metrics.
 */
import { readEnvSetting } from './env-settings.ts';
import type { EnvSetting } from './env-settings.ts';
import type { Logger } from './log.ts';
import type { Component } from './supervisor.ts';

export interface PeriodicCheckOptions {
  /** The component's name in the supervisor's logs. */
  readonly name: string;
  readonly log: Logger;
  /** How often `check` runs. */
  readonly everyMs: number;
  /** The environment switch whose `off` switches the component off (bench A/Bs; env-settings.ts). */
  readonly off: EnvSetting<'on' | 'off'>;
  /** The one log line then ("malloc_trim switched off (EDGEOS_MALLOC_TRIM=off)"). */
  readonly offMessage: string;
  /** Finds what the check needs; false when it is not there (it logs why): no timer then. */
  readonly prepare: () => boolean;
  readonly check: () => void;
}

/** A component running `check` every `everyMs` once `prepare` found what it needs. */
export function periodicCheck(o: PeriodicCheckOptions): Component {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: o.name,
    start: async () => {
      if (readEnvSetting(process.env, o.off) === 'off') {
        o.log.info(o.offMessage);
        return;
      }
      if (!o.prepare()) return;
      timer = setInterval(o.check, o.everyMs);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** Runs `work` and returns the CPU seconds (user + system) the calling thread spent in it. */
export function threadCpuSeconds(work: () => void): number {
  const before = process.threadCpuUsage();
  work();
  const used = process.threadCpuUsage(before);
  return (used.user + used.system) / 1e6;
}
