// The entry point of the single executable. It only wires commands: `--version` answers before
// anything else is loaded, and each mode imports its own code lazily when it runs.
import { relaunchForRole } from '../common/v8-flags.ts';
import { versionLine } from './build-info.ts';
import { reportFatal } from './fatal.ts';

async function main(argv: string[]): Promise<void> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-v' || argv[2] === 'version')) {
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
