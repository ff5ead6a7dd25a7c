// `edgeos join <token>`: joins this device to a cluster, then runs its agent in the foreground (by
// becoming `edgeos agent`: continueAsAgent).
import { Command } from 'commander';
import type { RawAgentFlags } from '../agent/join/agent-config.ts';
import { addAgentFlags, continueAsAgent } from './agent-command.ts';
import { attributeConfigErrors } from './config-file.ts';

export function joinCommand(): Command {
  return addAgentFlags(
    new Command('join')
      .description('Join this device to an edgeos cluster with a join token, then run its agent')
      .argument('<token>', 'the join token (from <data-dir>/server/token or `edgeos token create`)'),
  ).action(async (token: string, flags: RawAgentFlags, command: Command) => {
    const [{ resolveAgentConfig }, { createLogger }, { joinCluster }] = await Promise.all([
      import('../agent/join/agent-config.ts'),
      import('../common/log.ts'),
      import('../agent/join/join.ts'),
    ]);
    const config = attributeConfigErrors(command, () => resolveAgentConfig(flags, process.env, process.cwd()));
    const log = createLogger({ level: config.logLevel });
    await joinCluster({ token, nodeName: config.nodeName, dataDir: config.dataDir, register: config.register, log });
    process.stdout.write(`joined as node ${config.nodeName}; running the agent (later: edgeos agent --data-dir ${config.dataDir})\n`);
    await continueAsAgent(config, log, token);
  });
}
