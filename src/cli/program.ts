import { Command } from 'commander';
import { versionLine } from './build-info.ts';
import { applyConfigFile } from './config-file.ts';
import { agentCommand } from './agent-command.ts';
import { bundleCommand } from './bundle-command.ts';
import { joinCommand } from './join-command.ts';
import { serverCommand } from './server-command.ts';
import { storeCommand } from './store-command.ts';
import { tokenCommand } from './token-command.ts';

/** The command tree. Each command's action imports its implementation on first use. */
export function buildProgram(): Command {
  const program = new Command('edgeos')
    .description('A Kubernetes-compatible edge runtime in one executable')
    .version(versionLine(), '-v, --version')
    .showHelpAfterError()
    .exitOverride()
    // --config: the file fills in flags not given on the command line or as EDGEOS_* variables.
    .hook('preAction', (_program, command) => applyConfigFile(command, process.env));
  program.addCommand(serverCommand());
  program.addCommand(storeCommand());
  program.addCommand(tokenCommand());
  program.addCommand(joinCommand());
  program.addCommand(agentCommand());
  program.addCommand(bundleCommand());
  return program;
}
