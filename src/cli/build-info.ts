/** Filled in by the bundler (scripts/bundle.mjs `define`); the fallbacks apply when run from source. */
declare const __EDGEOS_VERSION__: string | undefined;
declare const __EDGEOS_COMMIT__: string | undefined;

export const buildInfo = {
  version: typeof __EDGEOS_VERSION__ === 'string' ? __EDGEOS_VERSION__ : '0.0.0-dev',
  commit: typeof __EDGEOS_COMMIT__ === 'string' ? __EDGEOS_COMMIT__ : 'unknown',
} as const;

export function versionLine(): string {
  return `edgeos v${buildInfo.version} (commit ${buildInfo.commit}, node ${process.version}, linux/${process.arch === 'x64' ? 'amd64' : process.arch})`;
}

/** `edgeos --version` (and -v, version): answered before anything else loads. */
export function isVersionQuery(argv: readonly string[]): boolean {
  return argv.length === 3 && (argv[2] === '--version' || argv[2] === '-v' || argv[2] === 'version');
}
