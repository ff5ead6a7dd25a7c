// `edgeos agent`: runs the agent in the foreground until SIGTERM/SIGINT or a background failure.
// With a join token (--token / EDGEOS_TOKEN, as the service install.sh writes for `join <token>`)
// an unjoined data dir is joined first, like `k3s agent --token`; a joined one ignores the token,
// so restarts after the token expired still work. The agent code loads only when the command runs
// (STYLE.md §11).
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import type { Logger } from '../common/log.ts';
import type { AgentOptions } from '../agent/agent.ts';
import type { AgentConfig, RawAgentFlags } from '../agent/join/agent-config.ts';
import { execCommandLine } from '../common/v8-flags.ts';
import { attributeConfigErrors, collect, withConfigFile } from './config-file.ts';

/** Flags shared by `edgeos agent` and `edgeos join`. */
export function addAgentFlags(c: Command): Command {
  return withConfigFile(c)
    .option('--data-dir <dir>', 'state directory (env EDGEOS_DATA_DIR; default /var/lib/edgeos)')
    .option('--container-runtime-endpoint <socket>', 'use this CRI socket instead of a private containerd (env EDGEOS_CONTAINER_RUNTIME_ENDPOINT)')
    .option('--pod-cidr <cidr>', "this node's pod subnet (env EDGEOS_POD_CIDR; default a free 10.42.N.0/24 on this host, kept in the data dir)")
    .option('--resolv-conf <file>', 'nameservers the cluster DNS asks for names outside the cluster (env EDGEOS_RESOLV_CONF; default /etc/resolv.conf)')
    .option('--cgroup-root <path>', 'cgroup whose kubepods cgroup holds the pods (env EDGEOS_CGROUP_ROOT; default / for the default data dir, /edgeos-<8 hex> for another)')
    .option('--sync-frequency <duration>', "how often each pod is synced when nothing changed, as kubelet's flag (env EDGEOS_SYNC_FREQUENCY; default 1m, at least 1s; stretched by up to half at random)")
    .option('--pod-network-backend <backend>', 'how this node reaches other nodes\' pods: auto (routed natively to nodes on a subnet it shares, VXLAN to the others) or vxlan (VXLAN to all) (env EDGEOS_POD_NETWORK_BACKEND; default auto)')
    .option('--disable-runtime', 'keep the link and the offline cache only; run no pods on this node (env EDGEOS_DISABLE_RUNTIME)')
    .option('--default-local-storage-path <dir>', 'where local persistent volumes are created (env EDGEOS_DEFAULT_LOCAL_STORAGE_PATH; default <data-dir>/storage)')
    .option('--log-level <level>', 'log level (env EDGEOS_LOG_LEVEL; default info)')
    .option('--node-name <name>', 'name of this node when it joins (env EDGEOS_NODE_NAME; default the host name)')
    .option('--node-label <key=value>', 'label of the Node at registration, repeatable (env EDGEOS_NODE_LABEL, comma-separated)', collect)
    .option('--node-taint <key=value:Effect>', 'taint of the Node at registration, repeatable (env EDGEOS_NODE_TAINT, comma-separated)', collect)
    .option('--pool <name>', 'node pool this node joins: its label apps.edgeos.io/pool at registration (env EDGEOS_POOL)');
}

export function agentCommand(): Command {
  return addAgentFlags(new Command('agent').description('Run the agent of this node; with --token, join first if the data dir has not joined yet'))
    .option('--token <token>', 'join token, used only while the data dir holds no joined node (env EDGEOS_TOKEN)')
    .action(async (flags: RawAgentFlags & { token?: string }, command: Command) => {
      const [{ resolveAgentConfig }, { createLogger }, { nodeDir, nodeFiles }] = await Promise.all([
        import('../agent/join/agent-config.ts'),
        import('../common/log.ts'),
        import('../agent/join/node-files.ts'),
      ]);
      const config = attributeConfigErrors(command, () => resolveAgentConfig(flags, process.env, process.cwd()));
      const log = createLogger({ level: config.logLevel });
      const token = flags.token ?? (process.env.EDGEOS_TOKEN || undefined);
      if (token !== undefined && !existsSync(nodeFiles(nodeDir(config.dataDir)).config)) {
        const { joinCluster } = await import('../agent/join/join.ts');
        await joinCluster({ token, nodeName: config.nodeName, dataDir: config.dataDir, register: config.register, log });
        log.info({ node: config.nodeName }, 'joined with the join token; later starts ignore it');
        return continueAsAgent(config, log, token);
      }
      await runAgentForeground(config, log);
    });
}

/**
 * The command line `edgeos agent` with the flags of a join (`join <token> …` or `agent --token …`):
 * the same arguments without the token, which a joined data dir no longer needs.
 */
export function agentArgvAfterJoin(argv: readonly string[], token: string): string[] {
  const out = argv.slice(0, 2).concat('agent');
  let tokenDropped = false;
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--token') i++;
    else if (a.startsWith('--token=')) continue;
    else if (a === token && !tokenDropped) tokenDropped = true;
    else out.push(a);
  }
  return out;
}

/**
 * After a join, the process becomes `edgeos agent` (execve: same pid, so a supervisor or a test
 * waiting on it sees one process) instead of running the agent beside what the join loaded: the
 * x509/CSR libraries and WebCrypto stay resident otherwise, and the device runs this process for
 * months. Its command line no longer shows the token. Falls back to running in this process where
 * Node has no execve.
 */
export async function continueAsAgent(config: AgentConfig, log: Logger, token: string): Promise<void> {
  const [, , command] = process.argv;
  if (command === 'join' || command === 'agent') {
    // Lines pino still buffers would be lost with the process image.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    execCommandLine(agentArgvAfterJoin(process.argv, token));
  }
  await runAgentForeground(config, log);
}

/**
 * Starts the agent of `config.dataDir` under the process's supervisor (src/common/supervisor.ts
 * runInForeground) until a signal or a background failure.
 */
export async function runAgentForeground(config: AgentConfig, log: Logger): Promise<void> {
  const [{ createAgent }, { createSupervisor, runInForeground }, { sqliteNativeBinding }, { mallocTrimmer }, { heapCompactor }] = await Promise.all([
    import('../agent/agent.ts'),
    import('../common/supervisor.ts'),
    import('../common/sea.ts'),
    import('../common/malloc.ts'),
    import('../common/heap-compactor.ts'),
  ]);
  const main = createSupervisor({ name: 'edgeos', log });
  // Returns the holes glibc keeps after bursts of work to the kernel (src/common/malloc.ts).
  const trimmer = mallocTrimmer({ log, dataDir: config.dataDir });
  main.add(trimmer);
  // Gives V8's sparse old-space pages back after bursts of work (src/common/heap-compactor.ts).
  const compactor = heapCompactor({ log });
  main.add(compactor);
  main.add(createAgent({
    ...agentSettings(config),
    log,
    nativeBinding: sqliteNativeBinding({ dataDir: config.dataDir }),
    mallocStats: () => trimmer.stats(),
    heapCompactStats: () => compactor.stats(),
    onFailure: (err) => main.fail('agent', err),
  }));
  const { failure } = await runInForeground(main, { log });
  if (failure) throw failure;
}

/** The agent's settings from its resolved configuration (what the process adds is its own: log, addons, failures). */
export function agentSettings(config: AgentConfig): Pick<AgentOptions, 'dataDir' | 'localStoragePath' | 'resolvConf' | 'cgroupRoot' | 'resyncMs' | 'podStartConcurrency' | 'podNetworkBackend' | 'runtime'> {
  return {
    dataDir: config.dataDir,
    localStoragePath: config.localStoragePath,
    resolvConf: config.resolvConf,
    ...(config.cgroupRoot ? { cgroupRoot: config.cgroupRoot } : {}),
    ...(config.syncFrequencyMs !== undefined ? { resyncMs: config.syncFrequencyMs } : {}),
    podNetworkBackend: config.podNetworkBackend,
    ...(config.podStartConcurrency !== undefined ? { podStartConcurrency: config.podStartConcurrency } : {}),
    runtime: config.disableRuntime
      ? false
      : {
          ...(config.containerRuntimeEndpoint ? { containerRuntimeEndpoint: config.containerRuntimeEndpoint } : {}),
          ...(config.podCidr ? { podCidr: config.podCidr } : {}),
        },
  };
}
