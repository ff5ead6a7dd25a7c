// The entry point of the single executable. It only wires commands: `--version` answers before
// anything else is loaded, and each mode imports its own code lazily when it runs.
import { versionLine } from './build-info.ts';
import { reportFatal } from './fatal.ts';

async function main(argv: string[]): Promise<void> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-v' || argv[2] === 'version')) {
    process.stdout.write(versionLine() + '\n');
    return;
  }
  const { buildProgram } = await import('./program.ts');
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.exitCode = reportFatal(err);
});
