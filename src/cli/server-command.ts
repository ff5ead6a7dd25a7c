// `edgeos server`: the flags, and the process's supervisor around the server component
// (src/common/supervisor.ts runInForeground): SIGTERM/SIGINT or a background failure stop it; a
// failure makes the process exit non-zero. The server and store code load only when the command
// runs (STYLE.md §11).
import { Command, Option } from 'commander';
import type { RawServerFlags, ServerConfig } from '../server/config.ts';
import type { PodNetworkBackend } from '../common/pod-network-backend.ts';
import type { LocalAgentContext, LocalAgentLifecycle } from '../server/server-types.ts';
import { buildInfo } from './build-info.ts';
import { attributeConfigErrors, collect, withConfigFile } from './config-file.ts';

export function serverCommand(): Command {
  // No commander defaults: resolveServerConfig must see which flags were given, so that EDGEOS_*
  // variables and then the config file can fill in the rest (flag > variable > file > default).
  return withConfigFile(new Command('server'))
    .description('Run the edgeos API server and its local agent')
    .option('--data-dir <dir>', 'state directory (env EDGEOS_DATA_DIR; default /var/lib/edgeos)')
    .option('--bind-address <ip>', 'address to listen on, 0.0.0.0 or :: for all (env EDGEOS_BIND_ADDRESS; default 0.0.0.0)')
    .option('--https-listen-port <port>', 'HTTPS port of the API (env EDGEOS_HTTPS_LISTEN_PORT; default 6443)')
    .option('--advertise-address <ip>', 'address agents use to reach this server; added to the certificate (env EDGEOS_ADVERTISE_ADDRESS)')
    .option('--tls-san <name>', 'extra name or IP for the serving certificate, repeatable (env EDGEOS_TLS_SAN, comma-separated)', collect)
    .option('--write-kubeconfig <file>', 'where to write the admin kubeconfig (env EDGEOS_WRITE_KUBECONFIG; default /etc/edgeos/kubeconfig.yaml)')
    .option('--write-kubeconfig-mode <mode>', 'octal file mode of the kubeconfig (env EDGEOS_WRITE_KUBECONFIG_MODE; default 600)')
    .option('--disable-agent', 'do not run the local agent (env EDGEOS_DISABLE_AGENT)')
    .option('--disable-controllers', 'run no controllers and no scheduler: a passive API (env EDGEOS_DISABLE_CONTROLLERS)')
    .option('--node-monitor-grace-period <duration>', 'a node whose lease is not renewed this long becomes Unknown (env EDGEOS_NODE_MONITOR_GRACE_PERIOD; default 40s)')
    .option('--default-local-storage-path <dir>', "where the local agent creates local persistent volumes (env EDGEOS_DEFAULT_LOCAL_STORAGE_PATH; default <data-dir>/storage)")
    .option('--datastore-endpoint <url>', 'store in PostgreSQL instead of SQLite: postgres://user:password@host:5432/database?sslmode=verify-full (env EDGEOS_DATASTORE_ENDPOINT)')
    .option('--datastore-cafile <file>', 'CA that signed the PostgreSQL server certificate; verifies it (env EDGEOS_DATASTORE_CAFILE)')
    .option('--datastore-certfile <file>', 'client certificate for PostgreSQL (env EDGEOS_DATASTORE_CERTFILE)')
    .option('--datastore-keyfile <file>', 'key of the client certificate (env EDGEOS_DATASTORE_KEYFILE)')
    .option('--datastore-password-file <file>', 'file holding the PostgreSQL password, instead of in the URL (env EDGEOS_DATASTORE_PASSWORD_FILE)')
    .option('--token <token>', 'server token of a cluster of servers on one --datastore-endpoint; the first server writes one to <data-dir>/server/server-token (env EDGEOS_TOKEN)')
    .option('--token-file <file>', 'file holding the server token, instead of --token (env EDGEOS_TOKEN_FILE)')
    .option('--cluster-cidr <cidr>', 'IPv4 range of pod addresses; each node gets a block of it as node.spec.podCIDR (env EDGEOS_CLUSTER_CIDR; default 10.42.0.0/16)')
    .option('--node-cidr-mask-size <bits>', 'prefix length of each node\'s pod CIDR: 2^(bits - cluster prefix) nodes fit, at most 65536 (env EDGEOS_NODE_CIDR_MASK_SIZE; default 24)')
    .option('--service-cidr <cidr>', 'IPv4 range of Service ClusterIPs (env EDGEOS_SERVICE_CIDR; default 10.43.0.0/16)')
    .option('--cluster-dns <ip>', 'the cluster DNS address pods use, inside --service-cidr (env EDGEOS_CLUSTER_DNS; default the 10th address of it, 10.43.0.10)')
    .option('--cluster-domain <domain>', 'the cluster DNS domain (env EDGEOS_CLUSTER_DOMAIN; default cluster.local)')
    .option('--service-node-port-range <range>', 'NodePorts come from this range (env EDGEOS_SERVICE_NODE_PORT_RANGE; default 30000-32767)')
    .option('--cgroup-root <path>', "cgroup whose kubepods cgroup holds the local agent's pods (env EDGEOS_CGROUP_ROOT; default / for the default data dir, /edgeos-<8 hex> for another)")
    .option('--sync-frequency <duration>', "how often the local agent syncs each pod when nothing changed, as kubelet's flag (env EDGEOS_SYNC_FREQUENCY; default 1m, at least 1s)")
    .option('--pod-network-backend <backend>', 'how the local agent reaches other nodes\' pods: auto (routed natively to nodes on a subnet it shares, VXLAN to the others) or vxlan (VXLAN to all) (env EDGEOS_POD_NETWORK_BACKEND; default auto)')
    .addOption(new Option('--log-level <level>', 'log level (env EDGEOS_LOG_LEVEL; default info)'))
    .action(runServer);
}

const SERVER_BUFFER_POOL_BYTES = 8 * 1024;

async function runServer(flags: RawServerFlags, command: Command): Promise<void> {
  const [{ createLogger }, { createSupervisor, runInForeground }, { sqliteNativeBinding }, { openSqliteStore, openPostgresStore }, { createEdgeosServer, resolveServerConfig, apiEndpoint }, { createApiHandler }, { createControllerManager, builtinControllers, clusterServiceControllers, namespaceDefaultsController, podCidrController }] = await Promise.all([
    import('../common/log.ts'),
    import('../common/supervisor.ts'),
    import('../common/sea.ts'),
    import('../store/index.ts'),
    import('../server/index.ts'),
    import('../server/api/index.ts'),
    import('../server/controllers/index.ts'),
  ]);
  const config = attributeConfigErrors(command, () => resolveServerConfig(flags, process.env, process.cwd()));
  const log = createLogger({ level: config.logLevel });
  // Small Buffers are cut out of a shared slab of Buffer.poolSize bytes (Node 24: 64 KiB), and one
  // kept view pins its slab: each linked node's TLS socket keeps a few bytes of ALPN protocol list
  // (tls.convertALPNProtocols), cut from wherever the pool was, and with it 64 KiB. 8 KiB — Node's
  // size before — bounds what any such view pins to that (docs/link.md, "Server memory per linked node").
  Buffer.poolSize = SERVER_BUFFER_POOL_BYTES;
  const main = createSupervisor({ name: 'edgeos', log });

  const server = createEdgeosServer({
    config,
    log,
    build: buildInfo,
    // Inside the single executable better-sqlite3 finds its addon only through this option (on
    // PostgreSQL it is needed only to write snapshots).
    openStore: (o) =>
      config.datastore
        ? openPostgresStore({ ...config.datastore, log: o.log, sqliteBinding: () => sqliteNativeBinding({ dataDir: config.dataDir }) })
        : openSqliteStore({ ...o, nativeBinding: sqliteNativeBinding({ dataDir: config.dataDir }) }),
    mountApi: (deps) => createApiHandler({ ...deps, serviceCidr: config.network.serviceCidr, nodePortRange: config.network.nodePortRange }),
    startControllers: (deps) =>
      createControllerManager({
        ...deps,
        descriptors: [
          ...builtinControllers,
          ...clusterServiceControllers({ network: config.network, apiEndpoint: apiEndpoint(config), ...(deps.apiServers ? { apiServers: deps.apiServers } : {}) }),
          namespaceDefaultsController({ caPem: deps.caPem }),
          podCidrController(config.network),
        ],
        options: { nodeMonitorGracePeriodMs: config.nodeMonitorGracePeriodMs, nodeMonitorPeriodMs: config.nodeMonitorPeriodMs, workers: 5, manifestsDir: config.paths.manifestsDir },
      }),
    // The local agent loads only when it runs; the server never imports src/agent.
    ...(config.disableAgent
      ? {}
      : {
          startLocalAgent: async (ctx: LocalAgentContext, lifecycle: LocalAgentLifecycle) => {
            const { startLocalAgent } = await import('../agent/join/local-agent.ts');
            return startLocalAgent(ctx, {
              ...localAgentSettings(config),
              log,
              signal: lifecycle.signal,
              nativeBinding: sqliteNativeBinding({ dataDir: config.dataDir }),
              onFailure: (err) => lifecycle.onFailure(err),
            });
          },
        }),
    onFailure: (err) => main.fail('server', err),
  });
  main.add(server);

  if (config.disableAgent) log.info('--disable-agent: running the server without a local agent');

  const { failure } = await runInForeground(main, {
    log,
    onStarted: () => {
      process.stdout.write(
        `edgeos server is serving HTTPS on ${config.bindAddress} port ${server.address?.port ?? config.httpsListenPort}\n` +
          `admin kubeconfig: ${config.kubeconfigPath}\n` +
          `  export KUBECONFIG=${config.kubeconfigPath}\n`,
      );
    },
  });
  if (failure) throw failure;
}

/** The local agent's settings from the server's resolved configuration. */
export function localAgentSettings(config: ServerConfig): { dataDir: string; localStoragePath: string; cgroupRoot?: string; resyncMs?: number; podStartConcurrency?: number; podNetworkBackend: PodNetworkBackend } {
  return {
    dataDir: config.dataDir,
    localStoragePath: config.paths.localStorageDir,
    ...(config.cgroupRoot ? { cgroupRoot: config.cgroupRoot } : {}),
    ...(config.syncFrequencyMs !== undefined ? { resyncMs: config.syncFrequencyMs } : {}),
    ...(config.podStartConcurrency !== undefined ? { podStartConcurrency: config.podStartConcurrency } : {}),
    podNetworkBackend: config.podNetworkBackend,
  };
}
