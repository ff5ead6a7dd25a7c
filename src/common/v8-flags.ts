import type * as SeaModule from 'node:sea';

/**
 * Flags every start of the single executable runs with (sea-config `execArgv`), and under which
 * scripts/build-sea.ts makes the code cache of its full program: V8 refuses a cache made under
 * other code-generation flags, and compiling the 3 MB script instead costs ~140 ms per start. With
 * the server's --optimize-for-size here, the server and the plain commands keep the cache; the
 * agent runs its own script, without one (src/cli/sea-scripts.ts, docs/build.md).
 */
export const executableFlags: readonly string[] = ['--optimize-for-size'];

/**
 * V8/Node flags the product runs with, per role. One list, read by everything that starts an
 * edgeos process: the single executable's launch (scripts/build-sea.ts and src/cli) and the
 * benchmarks that run the bundled JavaScript with `node`, so a bench measures what ships.
 *
 * - server: `edgeos server` (API, store, controllers and, by default, the local agent).
 * - agent: `edgeos join` / `edgeos agent` on a device, where memory matters most.
 */
export const v8Flags: { readonly server: readonly string[]; readonly agent: readonly string[] } = {
  // The young generation capped at 2 × 4 MB: uncapped, V8 grew it to 128 MB under bench/api's
  // load and kept it through full GCs (RSS at 10,000 pods 270 MB, capped 128–146 MB; smaller caps
  // saved no more and cost GET throughput). --optimize-for-size: Node 24's V8 keeps every heap page
  // a GC frees in a pool, resident, until a memory-reducing GC that an idle server never gets (~12
  // MB at 10,000 pods, 40 MB in a toy); with the flag pages go back at once (RSS 126–130 → 110–112
  // MB) (bench/api/README.md, "Memory").
  server: ['--max-semi-space-size=4', '--optimize-for-size'],
  // executableFlags only because every start of the executable has them (above); measured neutral
  // for the agent's memory (bench/agent/README.md, session 3).
  // --expose-gc: the heap compactor's memory-reducing GC after bursts (src/common/heap-compactor.ts).
  agent: ['--max-semi-space-size=1', '--lite-mode', '--expose-gc', ...executableFlags],
};

export type Role = keyof typeof v8Flags;

/**
 * Environment variables of the agent's process that, like V8 flags, only count from exec on:
 * glibc reads its malloc tunables when the process starts (docs/runtime.md, "Memory").
 */
export const agentLaunchEnv: Readonly<Record<string, string>> = {
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32768:glibc.malloc.arena_max=1',
};

/**
 * The server's: the same fixed mmap threshold (freed large buffers — list responses, TLS records —
 * go back to the system instead of raising the threshold for good), and two arenas shared by
 * V8's GC/compiler threads and libuv's pool (one arena measured no smaller: 132 vs 131 MB) (bench/api/README.md, "Memory").
 */
export const serverLaunchEnv: Readonly<Record<string, string>> = {
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32768:glibc.malloc.arena_max=2',
};

/** The environment a role's process gets on top of what it was started with. */
export function launchEnvOf(role: Role): Readonly<Record<string, string>> {
  return role === 'agent' ? agentLaunchEnv : serverLaunchEnv;
}

/**
 * Set in the environment of a relaunched process (`<role>[:<variable we added>…]`): a process that
 * has it never relaunches again, even if its flags somehow did not arrive (no loop). It is removed
 * at once, with the variables it names, so nothing the process starts inherits them.
 */
export const RELAUNCH_MARK = 'EDGEOS_RELAUNCHED_WITH_FLAGS';

/** The role a command line runs as: its subcommand decides; help and unknown commands need none. */
export function roleOf(args: readonly string[]): Role | undefined {
  if (args.some((a) => a === '--help' || a === '-h')) return undefined;
  switch (args[0]) {
    case 'join':
    case 'agent': return 'agent';
    case 'server': return 'server';
    default: return undefined;
  }
}

/** Flags under which V8 has no WebAssembly. */
function disablesWasm(flag: string): boolean {
  return flag === '--lite-mode' || flag === '--jitless';
}

export interface ProcessLaunch {
  /** process.execPath */
  execPath: string;
  /** process.execArgv: the Node options this process runs with. */
  execArgv: readonly string[];
  /** process.argv */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Inside the single executable, argv[1] is the executable again and Node options travel as --node-options. */
  sea: boolean;
}

export interface Relaunch {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * How to start this command line again with its role's flags (for process.execve, which keeps the
 * pid: pid files and supervisors see one process), or undefined when it runs with them already or
 * needs none — unless `always` (a process starting another command line of its role: join → agent).
 * V8 reads heap and compiler flags when the isolate is created, so they cannot be set from inside a
 * running process (docs/runtime.md, "Memory").
 */
export function relaunchWithFlags(p: ProcessLaunch, opts: { always?: boolean } = {}): Relaunch | undefined {
  const role = roleOf(p.argv.slice(2));
  if (!role || (!opts.always && p.env[RELAUNCH_MARK] !== undefined)) return undefined;
  // Running TypeScript from source (`npm start`, tests): Node's type stripper is WebAssembly, which
  // --lite-mode (it implies --jitless) turns off. Source runs keep the heap flags only; what ships
  // (the executable, the bundle the benchmarks run) gets every flag.
  const fromSource = /\.[cm]?ts$/.test(p.argv[1] ?? '');
  const flags = v8Flags[role].filter((f) => !fromSource || !disablesWasm(f));
  const extraEnv = Object.entries(launchEnvOf(role)).filter(([k]) => p.env[k] === undefined);
  if (!opts.always && flags.every((f) => p.execArgv.includes(f)) && extraEnv.length === 0) return undefined;
  // A variable the user set wins over ours; the mark names the ones we added.
  const mark = [role, ...extraEnv.map(([k]) => k)].join(':');
  const env = { ...Object.fromEntries(extraEnv), ...p.env, [RELAUNCH_MARK]: mark };
  if (p.sea) {
    // The executable is built with execArgvExtension "cli" (scripts/build-sea.ts): a leading
    // --node-options=… is parsed as Node options, not handed to the program.
    return { file: p.execPath, args: [p.execPath, `--node-options=${flags.join(' ')}`, ...p.argv.slice(2)], env };
  }
  return { file: p.execPath, args: [p.execPath, ...p.execArgv, ...flags.filter((f) => !p.execArgv.includes(f)), ...p.argv.slice(1)], env };
}

function runningInSea(): boolean {
  return (process.getBuiltinModule('node:sea') as typeof SeaModule | undefined)?.isSea() ?? false;
}

/**
 * Replaces this process (same pid) by the command line `argv` (process.argv's shape) with its
 * role's flags and launch environment. Returns false where Node has no execve; on success it does
 * not return.
 */
export function execCommandLine(argv: readonly string[]): boolean {
  if (!process.execve) return false;
  const next = relaunchWithFlags({ execPath: process.execPath, execArgv: process.execArgv, argv, env: process.env, sea: runningInSea() }, { always: true });
  if (!next) return false;
  process.execve(next.file, next.args, next.env);
  return true;
}

const decided = Symbol.for('edgeos.relaunch-decided');

/**
 * Replaces this process (same pid) by the same command line with its role's flags and launch
 * environment when it lacks them; returns when nothing is needed. Called first thing by the entry
 * point, before anything else is loaded.
 */
export function relaunchForRole(argv: readonly string[] = process.argv): void {
  // Once per process: in the executable the launcher decides, then the script it runs (with its own
  // copy of this module) would find the mark gone and our variables removed, and relaunch again.
  const g = globalThis as { [decided]?: true };
  if (g[decided]) return;
  g[decided] = true;
  const relaunch = relaunchWithFlags({ execPath: process.execPath, execArgv: process.execArgv, argv, env: process.env, sea: runningInSea() });
  if (relaunch && process.execve) process.execve(relaunch.file, relaunch.args, relaunch.env);
  const [, ...added] = (process.env[RELAUNCH_MARK] ?? '').split(':');
  delete process.env[RELAUNCH_MARK];
  // What the relaunch added served this process; the programs it starts (containerd) get the
  // environment the user gave. (glibc also cuts GLIBC_TUNABLES at its first ':' while parsing it.)
  for (const k of added) delete process.env[k];
}
