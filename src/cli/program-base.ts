import { Command } from 'commander';
import { versionLine } from './build-info.ts';
import { applyConfigFile } from './config-file.ts';

/** The root command with the given subcommands: version, help after errors, --config. */
export function programWith(commands: Command[]): Command {
  const program = new Command('edgeos')
    .description('A Kubernetes-compatible edge runtime in one executable')
    .version(versionLine(), '-v, --version')
    .showHelpAfterError()
    .exitOverride()
    // --config: the file fills in flags not given on the command line or as EDGEOS_* variables.
    .hook('preAction', (_program, command) => applyConfigFile(command, process.env));
  for (const c of commands) program.addCommand(c);
  return program;
}
