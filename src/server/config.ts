// `edgeos server` settings: commander hands over the raw flags, resolveServerConfig validates them
// against the EDGEOS_* environment and defaults and returns one frozen object (k3s's cmds.Server →
// config.Control split). Runtime state (listeners, the store) never lives here.
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { cgroupRootProblem } from '../common/cgroup-root.ts';
import { checkNodeCidrBlocks, resolveClusterNetwork } from '../common/cluster-network.ts';
import type { ClusterNetwork } from '../common/cluster-network.ts';
import { InvalidInputError } from '../common/errors.ts';
import { EndpointError, parseEndpoint } from '../store/postgres/endpoint.ts';
import type { PostgresEndpoint } from '../store/postgres/endpoint.ts';
import type { EndpointFiles, SourcedPath } from '../store/postgres/connect.ts';
import { parseDuration, parseSyncFrequency } from '../common/duration.ts';
import { parsePodNetworkBackend } from '../common/pod-network-backend.ts';
import type { PodNetworkBackend } from '../common/pod-network-backend.ts';
import { POD_START_CONCURRENCY, readEnvSetting } from '../common/env-settings.ts';

/** Flags exactly as commander parsed them; undefined = not given on the command line. */
export interface RawServerFlags {
  readonly dataDir?: string;
  readonly bindAddress?: string;
  readonly httpsListenPort?: string;
  readonly advertiseAddress?: string;
  readonly tlsSan?: readonly string[];
  readonly writeKubeconfig?: string;
  readonly writeKubeconfigMode?: string;
  readonly disableAgent?: boolean;
  readonly disableControllers?: boolean;
  readonly nodeMonitorGracePeriod?: string;
  readonly defaultLocalStoragePath?: string;
  readonly clusterCidr?: string;
  readonly nodeCidrMaskSize?: string;
  readonly serviceCidr?: string;
  readonly clusterDns?: string;
  readonly clusterDomain?: string;
  readonly serviceNodePortRange?: string;
  readonly cgroupRoot?: string;
  readonly syncFrequency?: string;
  readonly podNetworkBackend?: string;
  readonly logLevel?: string;
  readonly datastoreEndpoint?: string;
  readonly datastoreCafile?: string;
  readonly datastoreCertfile?: string;
  readonly datastoreKeyfile?: string;
  readonly datastorePasswordFile?: string;
  readonly token?: string;
  readonly tokenFile?: string;
}

/**
 * The server token of a cluster of servers on one datastore (--token / --token-file, docs/ha.md):
 * the key its CA travels under. The value, or the file to read it from at start.
 */
export type ServerTokenSource = { readonly value: string; readonly from: string } | { readonly file: string; readonly from: string };

/** PostgreSQL instead of the SQLite file under --data-dir (K3s's --datastore-endpoint). */
export interface DatastoreConfig {
  /** Parsed and checked; its password (if in the URL) is non-enumerable and never logged. */
  readonly endpoint: PostgresEndpoint;
  /** CA, client certificate and password files, read when the store opens. */
  readonly files: EndpointFiles;
}

export interface ServerConfig {
  readonly dataDir: string;
  readonly bindAddress: string;
  readonly httpsListenPort: number;
  readonly advertiseAddress: string | undefined;
  readonly tlsSans: readonly string[];
  readonly kubeconfigPath: string;
  readonly kubeconfigMode: number;
  readonly disableAgent: boolean;
  /** No controllers or scheduler: a passive API (tests). */
  readonly disableControllers: boolean;
  /** A node whose Lease is older than this becomes Ready=Unknown. */
  readonly nodeMonitorGracePeriodMs: number;
  /** How often node health is checked: kube's 5 s, shorter for short grace periods (tests). */
  readonly nodeMonitorPeriodMs: number;
  readonly logLevel: string;
  /** undefined: the embedded SQLite store (paths.dbFile). */
  readonly datastore: DatastoreConfig | undefined;
  /** Given only with a datastore; undefined: paths.serverTokenFile, or a new token for a new cluster. */
  readonly serverToken: ServerTokenSource | undefined;
  /** --service-cidr, --cluster-dns, --cluster-domain, --service-node-port-range (K3s's flags). */
  readonly network: ClusterNetwork;
  /** --cgroup-root for the local agent; undefined: the agent's default (/ for the default data dir). */
  readonly cgroupRoot: string | undefined;
  /** --sync-frequency for the local agent's kubelet; undefined: its default (1 m). */
  readonly syncFrequencyMs: number | undefined;
  /** --pod-network-backend for the local agent (docs/podnet.md); default auto. */
  readonly podNetworkBackend: PodNetworkBackend;
  /** EDGEOS_POD_START_CONCURRENCY for the local agent's kubelet (Infinity for 0); undefined: its default. */
  readonly podStartConcurrency: number | undefined;
  /** Where the admin kubeconfig points kubectl. */
  readonly apiServerUrl: string;
  readonly paths: {
    /** <data-dir>/server */
    readonly serverDir: string;
    /** <data-dir>/server/tls */
    readonly tlsDir: string;
    /** <data-dir>/server/db/state.db */
    readonly dbFile: string;
    /** <data-dir>/server/token: the default join token (0600). */
    readonly tokenFile: string;
    /** <data-dir>/server/manifests: applied at start and on every change (docs/storage.md). */
    readonly manifestsDir: string;
    /** Where the local agent creates local volumes (--default-local-storage-path; <data-dir>/storage). */
    readonly localStorageDir: string;
    /** <data-dir>/server/server-token: the cluster's server token (0600), with a shared datastore. */
    readonly serverTokenFile: string;
    /** <data-dir>/server/server-id: this server's name in its cluster. */
    readonly serverIdFile: string;
  };
}

export const serverDefaults = {
  dataDir: '/var/lib/edgeos',
  bindAddress: '0.0.0.0',
  httpsListenPort: 6443,
  kubeconfigPath: '/etc/edgeos/kubeconfig.yaml',
  kubeconfigMode: 0o600,
  logLevel: 'info',
  /** kube-controller-manager's --node-monitor-grace-period default. */
  nodeMonitorGracePeriodMs: 40_000,
} as const;

/** Each setting's flag and its environment mirror, for defaults and error messages. */
const sources = {
  dataDir: ['--data-dir', 'EDGEOS_DATA_DIR'],
  bindAddress: ['--bind-address', 'EDGEOS_BIND_ADDRESS'],
  httpsListenPort: ['--https-listen-port', 'EDGEOS_HTTPS_LISTEN_PORT'],
  advertiseAddress: ['--advertise-address', 'EDGEOS_ADVERTISE_ADDRESS'],
  tlsSan: ['--tls-san', 'EDGEOS_TLS_SAN'],
  writeKubeconfig: ['--write-kubeconfig', 'EDGEOS_WRITE_KUBECONFIG'],
  writeKubeconfigMode: ['--write-kubeconfig-mode', 'EDGEOS_WRITE_KUBECONFIG_MODE'],
  disableAgent: ['--disable-agent', 'EDGEOS_DISABLE_AGENT'],
  disableControllers: ['--disable-controllers', 'EDGEOS_DISABLE_CONTROLLERS'],
  nodeMonitorGracePeriod: ['--node-monitor-grace-period', 'EDGEOS_NODE_MONITOR_GRACE_PERIOD'],
  defaultLocalStoragePath: ['--default-local-storage-path', 'EDGEOS_DEFAULT_LOCAL_STORAGE_PATH'],
  clusterCidr: ['--cluster-cidr', 'EDGEOS_CLUSTER_CIDR'],
  nodeCidrMaskSize: ['--node-cidr-mask-size', 'EDGEOS_NODE_CIDR_MASK_SIZE'],
  serviceCidr: ['--service-cidr', 'EDGEOS_SERVICE_CIDR'],
  clusterDns: ['--cluster-dns', 'EDGEOS_CLUSTER_DNS'],
  clusterDomain: ['--cluster-domain', 'EDGEOS_CLUSTER_DOMAIN'],
  serviceNodePortRange: ['--service-node-port-range', 'EDGEOS_SERVICE_NODE_PORT_RANGE'],
  cgroupRoot: ['--cgroup-root', 'EDGEOS_CGROUP_ROOT'],
  syncFrequency: ['--sync-frequency', 'EDGEOS_SYNC_FREQUENCY'],
  podNetworkBackend: ['--pod-network-backend', 'EDGEOS_POD_NETWORK_BACKEND'],
  logLevel: ['--log-level', 'EDGEOS_LOG_LEVEL'],
  datastoreEndpoint: ['--datastore-endpoint', 'EDGEOS_DATASTORE_ENDPOINT'],
  datastoreCafile: ['--datastore-cafile', 'EDGEOS_DATASTORE_CAFILE'],
  datastoreCertfile: ['--datastore-certfile', 'EDGEOS_DATASTORE_CERTFILE'],
  datastoreKeyfile: ['--datastore-keyfile', 'EDGEOS_DATASTORE_KEYFILE'],
  datastorePasswordFile: ['--datastore-password-file', 'EDGEOS_DATASTORE_PASSWORD_FILE'],
  token: ['--token', 'EDGEOS_TOKEN'],
  tokenFile: ['--token-file', 'EDGEOS_TOKEN_FILE'],
} as const;

type Setting = keyof typeof sources;
type Env = Readonly<Record<string, string | undefined>>;

/** A value and the name (flag or variable) it came from, so an error names what the user typed. */
interface Sourced<T> {
  readonly value: T;
  readonly from: string;
}

function pick(raw: RawServerFlags, env: Env, setting: Setting & keyof RawServerFlags): Sourced<string> | undefined {
  const [flag, variable] = sources[setting];
  const fromFlag = raw[setting];
  if (typeof fromFlag === 'string') return { value: fromFlag, from: flag };
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, from: variable };
  return undefined;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
// A DNS name for a certificate: labels of letters, digits and hyphens; a leading "*." wildcard is
// allowed as in k3s's --tls-san.
const dnsNameRe = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;

function bad(from: string, message: string): InvalidInputError {
  return new InvalidInputError(`${from}: ${message}`);
}

function resolvePort(s: Sourced<string> | undefined): number {
  if (!s) return serverDefaults.httpsListenPort;
  const n = /^\d{1,5}$/.test(s.value.trim()) ? Number(s.value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad(s.from, `${JSON.stringify(s.value)} is not a TCP port (1-65535)`);
  return n;
}

function resolveIp(s: Sourced<string> | undefined, fallback: string | undefined): string | undefined {
  if (!s) return fallback;
  const v = s.value.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(v) === 0) throw bad(s.from, `${JSON.stringify(s.value)} is not an IPv4 or IPv6 address`);
  return v;
}

function resolveMode(s: Sourced<string> | undefined): number {
  if (!s) return serverDefaults.kubeconfigMode;
  // Octal like chmod and k3s's --write-kubeconfig-mode: "644", "0600".
  if (!/^0?[0-7]{3}$/.test(s.value.trim())) throw bad(s.from, `${JSON.stringify(s.value)} is not an octal file mode such as 600 or 644`);
  return parseInt(s.value.trim(), 8);
}

function resolveBool(raw: boolean | undefined, env: Env, setting: 'disableAgent' | 'disableControllers'): boolean {
  if (raw !== undefined) return raw;
  const variable = sources[setting][1];
  const v = env[variable]?.trim().toLowerCase();
  if (v === undefined || v === '') return false;
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw bad(variable, `${JSON.stringify(env[variable])} is not a boolean (true/false)`);
}

function resolveGracePeriod(s: Sourced<string> | undefined): number {
  if (!s) return serverDefaults.nodeMonitorGracePeriodMs;
  const ms = parseDuration(s.value);
  if (ms === undefined || ms < 1000) throw bad(s.from, `${JSON.stringify(s.value)} is not a duration of at least 1s such as 40s or 2m`);
  return ms;
}

function resolveTlsSans(raw: RawServerFlags, env: Env): string[] {
  const [flag, variable] = sources.tlsSan;
  // The variable holds a comma-separated list (one variable cannot repeat like a flag).
  const given: Sourced<string>[] =
    raw.tlsSan && raw.tlsSan.length > 0
      ? raw.tlsSan.map((value) => ({ value, from: flag }))
      : (env[variable] ?? '').split(',').filter((v) => v.trim() !== '').map((value) => ({ value, from: variable }));
  return given.map((s) => {
    const v = s.value.trim().replace(/^\[(.*)\]$/, '$1');
    if (isIP(v) === 0 && (v.length > 253 || !dnsNameRe.test(v))) {
      throw bad(s.from, `${JSON.stringify(s.value)} is neither an IP address nor a DNS name`);
    }
    return v;
  });
}

function resolvePath(s: Sourced<string> | undefined, fallback: string, cwd: string): string {
  if (!s) return fallback;
  if (s.value.trim() === '') throw bad(s.from, 'must not be empty');
  return resolve(cwd, s.value);
}

/**
 * --datastore-endpoint and its files. The URL is checked here (a typo fails before anything
 * starts); error messages never quote it, since it may carry a password.
 */
function resolveDatastore(raw: RawServerFlags, env: Env, cwd: string): DatastoreConfig | undefined {
  const given = pick(raw, env, 'datastoreEndpoint');
  const file = (setting: 'datastoreCafile' | 'datastoreCertfile' | 'datastoreKeyfile' | 'datastorePasswordFile'): SourcedPath | undefined => {
    const s = pick(raw, env, setting);
    if (!s) return undefined;
    if (!given) throw bad(s.from, `only applies with --datastore-endpoint (${sources.datastoreEndpoint[1]})`);
    return { path: resolvePath(s, '', cwd), from: s.from };
  };
  const files = { caFile: file('datastoreCafile'), certFile: file('datastoreCertfile'), keyFile: file('datastoreKeyfile'), passwordFile: file('datastorePasswordFile') };
  if (!given) return undefined;
  let endpoint: PostgresEndpoint;
  try {
    endpoint = parseEndpoint(given.value, given.from);
  } catch (err) {
    if (err instanceof EndpointError) throw bad(given.from, err.message);
    throw err;
  }
  if (files.passwordFile && endpoint.password !== undefined) {
    throw bad(files.passwordFile.from, `the endpoint (${given.from}) already has a password; give it in one place only`);
  }
  const present = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as EndpointFiles;
  return Object.freeze({ endpoint, files: Object.freeze(present) });
}

/** The server token's value is checked here; a --token-file is read at start (it may not exist yet in a config). */
export const MIN_SERVER_TOKEN_LENGTH = 16;

export function checkServerToken(token: string, from: string): string {
  const t = token.trim();
  if (t.length < MIN_SERVER_TOKEN_LENGTH || /\s/.test(t)) {
    // Never quote it: it is a secret, even when it is a bad one.
    throw bad(from, `the server token must be at least ${MIN_SERVER_TOKEN_LENGTH} characters without spaces (it is the key the cluster CA is sealed with; e.g. \`openssl rand -hex 24\`)`);
  }
  return t;
}

function resolveServerToken(raw: RawServerFlags, env: Env, cwd: string, datastore: DatastoreConfig | undefined): ServerTokenSource | undefined {
  const value = pick(raw, env, 'token');
  const file = pick(raw, env, 'tokenFile');
  if (value && file) throw bad(file.from, `give the server token once: ${value.from} or ${file.from}`);
  const given = value ?? file;
  if (given && !datastore) throw bad(given.from, `only applies with --datastore-endpoint (${sources.datastoreEndpoint[1]}): servers share a cluster through its datastore`);
  if (value) return Object.freeze({ value: checkServerToken(value.value, value.from), from: value.from });
  if (file) return Object.freeze({ file: resolvePath(file, '', cwd), from: file.from });
  return undefined;
}

/** The URL the admin kubeconfig uses: loopback when the server listens everywhere. */
function apiServerUrl(bindAddress: string, port: number): string {
  const wildcard = bindAddress === '0.0.0.0' || bindAddress === '::';
  const host = wildcard ? '127.0.0.1' : bindAddress;
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Validates flags and environment into the server's configuration. Flags win over EDGEOS_*
 * variables, which win over defaults. Throws InvalidInputError naming the flag or variable.
 * Pure apart from resolving relative paths against `cwd`; the file system is checked at start.
 */
export function resolveServerConfig(raw: RawServerFlags, env: Env, cwd = '/'): ServerConfig {
  const dataDir = resolvePath(pick(raw, env, 'dataDir'), serverDefaults.dataDir, cwd);
  const bindAddress = resolveIp(pick(raw, env, 'bindAddress'), serverDefaults.bindAddress)!;
  const httpsListenPort = resolvePort(pick(raw, env, 'httpsListenPort'));
  const advertiseAddress = resolveIp(pick(raw, env, 'advertiseAddress'), undefined);
  const tlsSans = resolveTlsSans(raw, env);
  const kubeconfigPath = resolvePath(pick(raw, env, 'writeKubeconfig'), serverDefaults.kubeconfigPath, cwd);
  const kubeconfigMode = resolveMode(pick(raw, env, 'writeKubeconfigMode'));
  const disableAgent = resolveBool(raw.disableAgent, env, 'disableAgent');
  const disableControllers = resolveBool(raw.disableControllers, env, 'disableControllers');
  const nodeMonitorGracePeriodMs = resolveGracePeriod(pick(raw, env, 'nodeMonitorGracePeriod'));
  const level = pick(raw, env, 'logLevel');
  const logLevel = level ? level.value.trim().toLowerCase() : serverDefaults.logLevel;
  if (level && !LOG_LEVELS.includes(logLevel)) {
    throw bad(level.from, `${JSON.stringify(level.value)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const cg = pick(raw, env, 'cgroupRoot');
  const cgProblem = cg ? cgroupRootProblem(cg.value) : undefined;
  if (cg && cgProblem) throw bad(cg.from, cgProblem);
  const sync = pick(raw, env, 'syncFrequency');
  const syncParsed = sync ? parseSyncFrequency(sync.value) : undefined;
  if (sync && syncParsed && 'problem' in syncParsed) throw bad(sync.from, syncParsed.problem);
  const podNetworkBackend = parsePodNetworkBackend(pick(raw, env, 'podNetworkBackend'));
  const datastore = resolveDatastore(raw, env, cwd);
  const serverToken = resolveServerToken(raw, env, cwd, datastore);
  const [cidr, dns, domain, ports, podCidrs, mask] = (['serviceCidr', 'clusterDns', 'clusterDomain', 'serviceNodePortRange', 'clusterCidr', 'nodeCidrMaskSize'] as const).map((k) => pick(raw, env, k));
  const network = resolveClusterNetwork(
    { ...(podCidrs ? { clusterCidr: podCidrs.value } : {}), ...(mask ? { nodeCidrMaskSize: mask.value } : {}), ...(cidr ? { serviceCidr: cidr.value } : {}), ...(dns ? { clusterDns: dns.value } : {}), ...(domain ? { clusterDomain: domain.value } : {}), ...(ports ? { nodePortRange: ports.value } : {}) },
    { clusterCidr: podCidrs?.from ?? '--cluster-cidr', nodeCidrMaskSize: mask?.from ?? '--node-cidr-mask-size', serviceCidr: cidr?.from ?? '--service-cidr', clusterDns: dns?.from ?? '--cluster-dns', clusterDomain: domain?.from ?? '--cluster-domain', nodePortRange: ports?.from ?? '--service-node-port-range' },
  );
  checkNodeCidrBlocks(network, { clusterCidr: podCidrs?.from ?? '--cluster-cidr', nodeCidrMaskSize: mask?.from ?? '--node-cidr-mask-size' });
  const serverDir = join(dataDir, 'server');
  return Object.freeze({
    dataDir,
    bindAddress,
    httpsListenPort,
    advertiseAddress,
    tlsSans: Object.freeze(tlsSans),
    kubeconfigPath,
    kubeconfigMode,
    disableAgent,
    disableControllers,
    nodeMonitorGracePeriodMs,
    nodeMonitorPeriodMs: Math.min(5000, Math.max(250, Math.floor(nodeMonitorGracePeriodMs / 4))),
    logLevel,
    datastore,
    serverToken,
    network,
    cgroupRoot: cg?.value,
    syncFrequencyMs: syncParsed && 'ms' in syncParsed ? syncParsed.ms : undefined,
    podNetworkBackend,
    podStartConcurrency: readEnvSetting(env, POD_START_CONCURRENCY),
    apiServerUrl: apiServerUrl(bindAddress, httpsListenPort),
    paths: Object.freeze({
      serverDir,
      tlsDir: join(serverDir, 'tls'),
      dbFile: join(serverDir, 'db', 'state.db'),
      tokenFile: join(serverDir, 'token'),
      serverTokenFile: join(serverDir, 'server-token'),
      serverIdFile: join(serverDir, 'server-id'),
      manifestsDir: join(serverDir, 'manifests'),
      localStorageDir: resolvePath(pick(raw, env, 'defaultLocalStoragePath'), join(dataDir, 'storage'), cwd),
    }),
  });
}
