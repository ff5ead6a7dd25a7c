// The EDGEOS_* variables that have no flag (tuning knobs and A/B switches), and the one parser that
// reads them. A flag's variable is read with its flag (server/config.ts, agent/join/agent-config.ts);
// these are read here, and a value that is not one of the accepted ones is refused with an error
// naming the variable and what it accepts, at configuration time, before anything starts: a typo
// (`EDGEOS_POD_START_CONCURRENCY=abc`, `EDGEOS_HEAP_COMPACT=0`) silently ignored would run the
// device with a setting its operator did not choose.
import { InvalidInputError } from './errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvSetting<T> {
  readonly variable: string;
  /** What the variable accepts, as the error says it ("0 = unbounded, or a positive integer"). */
  readonly accepted: string;
  /** The value of a trimmed, non-empty setting, or undefined when it is not accepted. */
  parse(value: string): T | undefined;
}

/** The setting's value; undefined when the variable is unset or empty. Throws InvalidInputError naming the variable. */
export function readEnvSetting<T>(env: Env, setting: EnvSetting<T>): T | undefined {
  const raw = env[setting.variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = setting.parse(raw.trim());
  if (value === undefined) throw new InvalidInputError(`${setting.variable}: ${JSON.stringify(raw)} is not accepted (${setting.accepted})`);
  return value;
}

/** A switch that is on unless set to `off`. */
export function onOff(variable: string): EnvSetting<'on' | 'off'> {
  return { variable, accepted: 'on or off', parse: (v) => (v === 'on' || v === 'off' ? v : undefined) };
}

/** Sandbox and container starts at a time (agent/kubelet/start-gate.ts); Infinity for 0. */
export const POD_START_CONCURRENCY: EnvSetting<number> = {
  variable: 'EDGEOS_POD_START_CONCURRENCY',
  accepted: '0 = unbounded, or a positive integer',
  parse: (v) => {
    if (!/^\d{1,6}$/.test(v)) return undefined;
    const n = Number(v);
    return n === 0 ? Infinity : n;
  },
};

/** heap-compactor.ts's A/B switch (read by periodic-check.ts; the agent's config refuses a bad one before). */
export const HEAP_COMPACT = onOff('EDGEOS_HEAP_COMPACT');
/** malloc.ts's A/B switch (read by periodic-check.ts; the agent's config refuses a bad one before). */
export const MALLOC_TRIM = onOff('EDGEOS_MALLOC_TRIM');

/**
 * Reads every flagless variable the `edgeos join`/`agent` process honours, so that a bad one
 * refuses the start; the pod start concurrency (undefined: the kubelet's default). The server's
 * local agent reads only POD_START_CONCURRENCY (the server runs no heap compactor or malloc trimmer).
 */
export function resolveAgentTuning(env: Env): { readonly podStartConcurrency: number | undefined } {
  readEnvSetting(env, HEAP_COMPACT);
  readEnvSetting(env, MALLOC_TRIM);
  return Object.freeze({ podStartConcurrency: readEnvSetting(env, POD_START_CONCURRENCY) });
}
