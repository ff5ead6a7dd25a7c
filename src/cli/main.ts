// The entry point of the whole program (`npm start`, dist/edgeos.cjs, and the executable's full
// script: src/cli/sea-main.ts picks it for every command but `join` and `agent`). It only wires
// commands: `--version` answers before anything else is loaded, and each mode imports its own code
// lazily when it runs.
import { relaunchForRole } from '../common/v8-flags.ts';
import { isVersionQuery, versionLine } from './build-info.ts';
import { reportFatal } from './fatal.ts';

async function main(argv: string[]): Promise<void> {
  if (isVersionQuery(argv)) {
    process.stdout.write(versionLine() + '\n');
    return;
  }
  // `join`, `agent` and `server` start again with their role's V8 flags before loading anything.
  relaunchForRole(argv);
  const { buildProgram } = await import('./program.ts');
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.exitCode = reportFatal(err);
});
