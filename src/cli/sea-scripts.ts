// The two programs the single executable carries (scripts/build-sea.ts) and which one a command
// line runs. A process keeps the source of every script it loaded in its heap: the agent on a
// device runs a script without the server's code (docs/build.md, "Two programs").
import { roleOf } from '../common/v8-flags.ts';

export const PROGRAM_ASSETS = {
  /** Every command: src/cli/main.ts bundled, with a V8 code cache made under executableFlags. */
  full: { script: 'edgeos.cjs', codeCache: 'edgeos.cjs.code-cache', gzip: false },
  /**
   * `join` and `agent`: src/cli/agent-main.ts bundled. No code cache: V8 refuses any under the
   * agent's --lite-mode unless made under it too, and the agent starts once per boot. Stored
   * gzip-compressed (1.2 → 0.3 MB of the executable's size budget; unpacking takes ~5 ms).
   */
  agent: { script: 'edgeos-agent.cjs', codeCache: undefined, gzip: true },
} as const;

export type Program = keyof typeof PROGRAM_ASSETS;

/** The program a command line (process.argv without node and script) runs. */
export function programFor(args: readonly string[]): Program {
  return roleOf(args) === 'agent' ? 'agent' : 'full';
}

/**
 * A bundle as the script the executable compiles: one CommonJS function, called with the
 * launcher's module, require (built-ins only, in a SEA) and paths. The code cache is made from
 * exactly this text, so the asset is stored wrapped.
 */
export function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}
