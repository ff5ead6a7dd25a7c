// `edgeos agent`: runs an already-joined agent in the foreground until SIGTERM/SIGINT or a
// background failure. The agent code loads only when the command runs (STYLE.md §11).
import { Command } from 'commander';
import type { Logger } from '../common/log.ts';
import type { AgentConfig, RawAgentFlags } from '../agent/join/agent-config.ts';

const STOP_DEADLINE_MS = 8000;

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Flags shared by `edgeos agent` and `edgeos join`. */
export function addAgentFlags(c: Command): Command {
  return c
    .option('--data-dir <dir>', 'state directory (env EDGEOS_DATA_DIR; default /var/lib/edgeos)')
    .option('--container-runtime-endpoint <socket>', 'use this CRI socket instead of a private containerd (env EDGEOS_CONTAINER_RUNTIME_ENDPOINT)')
    .option('--pod-cidr <cidr>', "this node's pod subnet (env EDGEOS_POD_CIDR; default a free 10.42.N.0/24 on this host, kept in the data dir)")
    .option('--disable-runtime', 'keep the link and the offline cache only; run no pods on this node (env EDGEOS_DISABLE_RUNTIME)')
    .option('--log-level <level>', 'log level (env EDGEOS_LOG_LEVEL; default info)');
}

export function agentCommand(): Command {
  return addAgentFlags(new Command('agent').description('Run the agent of a node joined with `edgeos join`')).action(async (flags: RawAgentFlags) => {
    const { resolveAgentConfig } = await import('../agent/join/agent-config.ts');
    const { createLogger } = await import('../common/log.ts');
    const config = resolveAgentConfig(flags, process.env, process.cwd());
    await runAgentForeground(config, createLogger({ level: config.logLevel }));
  });
}

/** Starts the agent of `config.dataDir` and supervises it until a signal or a failure. */
export async function runAgentForeground(config: AgentConfig, log: Logger): Promise<void> {
  const [{ createAgent }, { sqliteNativeBinding }] = await Promise.all([import('../agent/agent.ts'), import('../common/sea.ts')]);
  const stopSignal = new AbortController();
  let failure: Error | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal.signal.aborted) process.exit(1);
    log.info({ signal: sig }, 'shutting down');
    stopSignal.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const agent = createAgent({
      dataDir: config.dataDir,
      log,
      nativeBinding: sqliteNativeBinding({ dataDir: config.dataDir }),
      runtime: config.disableRuntime
        ? false
        : {
            ...(config.containerRuntimeEndpoint ? { containerRuntimeEndpoint: config.containerRuntimeEndpoint } : {}),
            ...(config.podCidr ? { podCidr: config.podCidr } : {}),
          },
      onFailure: (err) => {
        failure ??= err;
        log.error({ err: err.message }, 'background failure: shutting down');
        stopSignal.abort();
      },
    });
    await agent.start(stopSignal.signal);
    await new Promise<void>((resolve) => stopSignal.signal.addEventListener('abort', () => resolve(), { once: true }));
    setTimeout(() => {
      log.error(`shutdown did not finish within ${STOP_DEADLINE_MS} ms: exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    await agent.stop();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  if (failure) throw failure;
}
