// `--config <file>` (env EDGEOS_CONFIG_FILE, default /etc/edgeos/config.yaml): settings keyed by
// flag long name, as K3s's config.yaml. The file fills in only what neither the command line nor
// the flag's EDGEOS_* variable gave, so the order is flag > variable > file > default. Values land
// in commander with source 'config' before the action runs; the commands' resolve…Config()
// functions then validate them like flags, and `attributeConfigErrors` points their errors at the
// file and line instead of at a flag the user never typed.
//
// Unlike K3s (which warns and skips), a key that is no flag of any edgeos command is an error: a
// typo such as `data_dir` would otherwise silently leave the default in place. A key that is a
// flag of another command is skipped: one file serves `edgeos server` and `edgeos token create`.
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { InvalidInputError, errorMessage } from '../common/errors.ts';

export const DEFAULT_CONFIG_FILE = '/etc/edgeos/config.yaml';
const CONFIG_ENV = 'EDGEOS_CONFIG_FILE';

/** Which command a file's `mode:` (written by install.sh) is for; other commands ignore it. */
const MODE_COMMANDS: Readonly<Record<string, readonly string[]>> = { server: ['server'], device: ['agent', 'join'] };

/**
 * The argument parser of every repeatable flag. The loader recognises repeatable flags by it, so a
 * YAML list (or a single value) in the file means the same as repeating the flag.
 */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Flags whose variable is not EDGEOS_<FLAG> (STYLE.md §5's mirror), as kubectl's KUBECONFIG. */
const ENV_OF: Readonly<Record<string, string>> = { kubeconfig: 'KUBECONFIG' };

export function envOf(key: string): string {
  return ENV_OF[key] ?? `EDGEOS_${key.toUpperCase().replace(/-/g, '_')}`;
}

/** Adds `--config <file>` to a command; program.ts's preAction hook reads the file. */
export function withConfigFile(c: Command): Command {
  return c.option('--config <file>', `settings keyed by flag name; flags and EDGEOS_* variables win (env ${CONFIG_ENV}; default ${DEFAULT_CONFIG_FILE}, if present)`);
}

export interface ConfigEntry {
  readonly key: string;
  readonly value: unknown;
  readonly line: number;
}

export interface ConfigFile {
  readonly file: string;
  readonly entries: readonly ConfigEntry[];
}

/** Parses the text of a config file: a YAML mapping of flag names. Throws naming file and line. */
export async function parseConfigText(text: string, file: string): Promise<ConfigFile> {
  const { LineCounter, parseDocument, isMap, isScalar } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 0 : lines.linePos(offset).line);
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InvalidInputError(`${where}: YAML syntax error: ${message}`, { cause: first });
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return { file, entries: [] };
  if (!isMap(doc.contents)) {
    throw new InvalidInputError(`${file}:${lineOf(doc.contents.range?.[0])}: expected a mapping of flag names to values (data-dir: /var/lib/edgeos)`);
  }
  const entries = doc.contents.items.map((pair) => {
    const line = lineOf(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
      throw new InvalidInputError(`${file}:${line}: keys are flag names without dashes (data-dir), got ${JSON.stringify(String(pair.key))}`);
    }
    const value: unknown = pair.value === null ? null : (pair.value as { toJS(d: typeof doc): unknown }).toJS(doc);
    return { key: pair.key.value, value, line };
  });
  return { file, entries };
}

/**
 * Reads a config file. `from` names where the path came from (--config, EDGEOS_CONFIG_FILE);
 * without it the file is the default one, and its absence is no error.
 */
export async function readConfigFile(file: string, from?: string): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && from === undefined) return undefined;
    throw new InvalidInputError(`${from ?? '--config'}: ${missing ? `${file} does not exist` : `cannot read ${file}: ${errorMessage(err)}`}`, { cause: err });
  }
  return parseConfigText(text, file);
}

type Env = Readonly<Record<string, string | undefined>>;

function describeValue(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** The file's value in the shape commander would have produced from the command line. */
function typedValue(option: Option, e: ConfigEntry, file: string): unknown {
  const bad = (expected: string) => new InvalidInputError(`${file}:${e.line}: ${e.key}: expected ${expected}, got ${describeValue(e.value)}`);
  const scalar = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
  if (!option.required && !option.optional) {
    if (typeof e.value !== 'boolean') throw bad('a boolean (true or false)');
    return e.value;
  }
  if (option.parseArg === collect) {
    const items = Array.isArray(e.value) ? e.value : [e.value];
    const strings = items.map(scalar);
    if (strings.some((s) => s === undefined)) throw bad('a string or a list of strings');
    return strings as string[];
  }
  const s = scalar(e.value);
  if (s === undefined) throw bad('a string');
  return option.parseArg ? option.parseArg(s, undefined) : s;
}

function allFlagNames(c: Command): Set<string> {
  let root = c;
  while (root.parent) root = root.parent;
  const names = new Set<string>();
  const walk = (cmd: Command) => {
    for (const o of cmd.options) if (o.long) names.add(o.long.slice(2));
    cmd.commands.forEach(walk);
  };
  walk(root);
  return names;
}

/** Per command: where each value taken from the file came from, for error messages. */
const provenance = new WeakMap<Command, Map<string, { file: string; line: number; key: string }>>();

/**
 * The preAction hook: reads the command's config file (if it has `--config`) and sets every flag
 * that neither the command line nor its variable gave. `env` is process.env in production.
 */
export async function applyConfigFile(cmd: Command, env: Env, cwd = process.cwd()): Promise<void> {
  if (!cmd.options.some((o) => o.long === '--config')) return;
  const flag = cmd.getOptionValueSource('config') === 'cli' ? (cmd.getOptionValue('config') as string) : undefined;
  const given = flag ?? (env[CONFIG_ENV] || undefined);
  const file = given !== undefined ? resolve(cwd, given) : DEFAULT_CONFIG_FILE;
  const config = await readConfigFile(file, given === undefined ? undefined : flag !== undefined ? '--config' : CONFIG_ENV);
  if (!config) return;
  const known = allFlagNames(cmd);
  const sources = new Map<string, { file: string; line: number; key: string }>();
  for (const e of config.entries) {
    if (e.key === 'mode') {
      checkMode(cmd, e, file);
      continue;
    }
    if (e.key === 'config' || e.key === 'help' || e.key === 'version' || !known.has(e.key)) {
      const hint = known.has(e.key.toLowerCase().replace(/_/g, '-')) ? ` (did you mean ${e.key.toLowerCase().replace(/_/g, '-')}?)` : '';
      throw new InvalidInputError(`${file}:${e.line}: unknown key ${JSON.stringify(e.key)}: not a flag of any edgeos command${hint}; keys are flag long names such as data-dir`);
    }
    const option = cmd.options.find((o) => o.long === `--${e.key}`);
    if (!option) continue; // a flag of another command: the same file serves them all
    const name = option.attributeName();
    if (cmd.getOptionValueSource(name) === 'cli') continue;
    const variable = env[envOf(e.key)];
    if (variable !== undefined && variable !== '') continue;
    cmd.setOptionValueWithSource(name, typedValue(option, e, file), 'config');
    sources.set(option.long!, { file, line: e.line, key: e.key });
  }
  provenance.set(cmd, sources);
}

function checkMode(cmd: Command, e: ConfigEntry, file: string): void {
  const mode = e.value;
  const commands = typeof mode === 'string' ? MODE_COMMANDS[mode] : undefined;
  if (!commands) {
    throw new InvalidInputError(`${file}:${e.line}: mode: expected ${Object.keys(MODE_COMMANDS).join(' or ')}, got ${describeValue(mode)}`);
  }
  // Only the commands that run a node check it: `edgeos token create` reads the server's file too.
  const runsNode = Object.values(MODE_COMMANDS).some((cs) => cs.includes(cmd.name())) && cmd.parent?.parent === null;
  if (runsNode && !commands.includes(cmd.name())) {
    throw new InvalidInputError(
      `${file}:${e.line}: mode: ${String(mode)}: this file configures \`edgeos ${commands[0]}\`, not \`edgeos ${cmd.name()}\`; ` +
        'pass --config with a file for this command, or correct mode',
    );
  }
}

/**
 * Runs a resolve…Config() call; an InvalidInputError about a flag whose value came from the
 * config file is re-thrown naming the file, line and key instead ("--https-listen-port: …" would
 * send the user looking at a command line that does not have it).
 */
export function attributeConfigErrors<T>(cmd: Command, resolveConfig: () => T): T {
  try {
    return resolveConfig();
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    for (const [flag, at] of provenance.get(cmd) ?? []) {
      if (err.message.startsWith(`${flag}: `)) {
        throw new InvalidInputError(`${at.file}:${at.line}: ${at.key}: ${err.message.slice(flag.length + 2)}`, { cause: err });
      }
    }
    throw err;
  }
}
