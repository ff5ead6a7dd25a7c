// `edgeos join <token>`: joins this device to a cluster, then runs its agent in the foreground.
import { Command } from 'commander';
import type { RawAgentFlags } from '../agent/join/agent-config.ts';
import { addAgentFlags, collect, runAgentForeground } from './agent-command.ts';

export function joinCommand(): Command {
  return addAgentFlags(
    new Command('join')
      .description('Join this device to an edgeos cluster with a join token, then run its agent')
      .argument('<token>', 'the join token (from <data-dir>/server/token or `edgeos token create`)')
      .option('--node-name <name>', 'name of this node (env EDGEOS_NODE_NAME; default the host name)')
      .option('--node-label <key=value>', 'label of the Node at registration, repeatable (env EDGEOS_NODE_LABEL, comma-separated)', collect)
      .option('--node-taint <key=value:Effect>', 'taint of the Node at registration, repeatable (env EDGEOS_NODE_TAINT, comma-separated)', collect),
  ).action(async (token: string, flags: RawAgentFlags) => {
    const [{ resolveAgentConfig }, { createLogger }, { joinCluster }] = await Promise.all([
      import('../agent/join/agent-config.ts'),
      import('../common/log.ts'),
      import('../agent/join/join.ts'),
    ]);
    const config = resolveAgentConfig(flags, process.env, process.cwd());
    const log = createLogger({ level: config.logLevel });
    await joinCluster({ token, nodeName: config.nodeName, dataDir: config.dataDir, register: config.register, log });
    process.stdout.write(`joined as node ${config.nodeName}; running the agent (later: edgeos agent --data-dir ${config.dataDir})\n`);
    await runAgentForeground(config, log);
  });
}
