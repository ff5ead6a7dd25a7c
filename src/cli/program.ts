import type { Command } from 'commander';
import { agentCommand } from './agent-command.ts';
import { bundleCommand } from './bundle-command.ts';
import { joinCommand } from './join-command.ts';
import { programWith } from './program-base.ts';
import { serverCommand } from './server-command.ts';
import { storeCommand } from './store-command.ts';
import { tokenCommand } from './token-command.ts';

/** The command tree. Each command's action imports its implementation on first use. */
export function buildProgram(): Command {
  return programWith([serverCommand(), storeCommand(), tokenCommand(), joinCommand(), agentCommand(), bundleCommand()]);
}
