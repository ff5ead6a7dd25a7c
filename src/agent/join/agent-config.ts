// `edgeos join` and `edgeos agent` settings: commander's raw flags and the EDGEOS_* environment
// resolved into one frozen object; errors name the flag or variable (as src/server/config.ts does).
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { cgroupRootProblem } from '../../common/cgroup-root.ts';
import { parseSyncFrequency } from '../../common/duration.ts';
import { resolveAgentTuning } from '../../common/env-settings.ts';
import { InvalidInputError } from '../../common/errors.ts';
import type { NodeRegistration } from '../../common/link/protocol.ts';
import { POOL_LABEL, isPoolName } from '../../common/pools.ts';
import { parsePodNetworkBackend } from '../../common/pod-network-backend.ts';
import type { PodNetworkBackend } from '../../common/pod-network-backend.ts';

export interface RawAgentFlags {
  readonly dataDir?: string;
  readonly nodeName?: string;
  readonly nodeLabel?: readonly string[];
  readonly nodeTaint?: readonly string[];
  readonly pool?: string;
  readonly disableRuntime?: boolean;
  readonly containerRuntimeEndpoint?: string;
  readonly podCidr?: string;
  readonly defaultLocalStoragePath?: string;
  readonly resolvConf?: string;
  readonly cgroupRoot?: string;
  readonly syncFrequency?: string;
  readonly podNetworkBackend?: string;
  readonly logLevel?: string;
}

export interface AgentConfig {
  readonly dataDir: string;
  readonly nodeName: string;
  readonly register: NodeRegistration;
  readonly disableRuntime: boolean;
  readonly containerRuntimeEndpoint: string | undefined;
  /** --pod-cidr; undefined: the agent picks a free one on this host and keeps it. */
  readonly podCidr: string | undefined;
  /** --default-local-storage-path: where local volumes are provisioned (<data-dir>/storage). */
  readonly localStoragePath: string;
  /** --resolv-conf: the nameservers the cluster DNS forwards other names to. */
  readonly resolvConf: string;
  /** --cgroup-root: the parent of the pods' `kubepods` cgroup; undefined: chosen from the data dir. */
  readonly cgroupRoot: string | undefined;
  /** --sync-frequency: how often a pod's worker syncs when nothing woke it; undefined: the kubelet's default, 1m. */
  readonly syncFrequencyMs: number | undefined;
  /** --pod-network-backend: how peers on a shared subnet are reached (docs/podnet.md); default auto. */
  readonly podNetworkBackend: PodNetworkBackend;
  /** EDGEOS_POD_START_CONCURRENCY (Infinity for 0); undefined: the kubelet's default (start-gate.ts). */
  readonly podStartConcurrency: number | undefined;
  readonly logLevel: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const dns1123Re = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// A qualified name: optional DNS prefix and "/", then 1-63 of [A-Za-z0-9_.-] starting and ending alphanumeric.
const nameRe = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const valueRe = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const bad = (from: string, message: string) => new InvalidInputError(`${from}: ${message}`);

function validKey(key: string): boolean {
  const i = key.lastIndexOf('/');
  const [prefix, name] = i >= 0 ? [key.slice(0, i), key.slice(i + 1)] : ['', key];
  return (i < 0 || (prefix.length <= 253 && dns1123Re.test(prefix))) && nameRe.test(name);
}

function list(raw: readonly string[] | undefined, env: Env, variable: string, flag: string): { value: string; from: string }[] {
  if (raw && raw.length > 0) return raw.map((value) => ({ value, from: flag }));
  return (env[variable] ?? '').split(',').filter((v) => v.trim() !== '').map((value) => ({ value: value.trim(), from: variable }));
}

export function parseLabel(s: string, from: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw bad(from, `${JSON.stringify(s)} is not key=value`);
  const key = s.slice(0, i);
  const value = s.slice(i + 1);
  if (!validKey(key)) throw bad(from, `${JSON.stringify(key)} is not a valid label key`);
  if (!valueRe.test(value)) throw bad(from, `${JSON.stringify(value)} is not a valid label value (at most 63 of [A-Za-z0-9_.-])`);
  return [key, value];
}

/** kubectl/kubelet taint syntax: key=value:Effect or key:Effect. */
export function parseTaint(s: string, from: string): { key: string; value?: string; effect: string } {
  const m = /^([^=:]+)(?:=([^:]*))?:([A-Za-z]+)$/.exec(s);
  if (!m) throw bad(from, `${JSON.stringify(s)} is not key=value:Effect`);
  const [, key, value, effect] = m as unknown as [string, string, string | undefined, string];
  if (!validKey(key)) throw bad(from, `${JSON.stringify(key)} is not a valid taint key`);
  if (value !== undefined && !valueRe.test(value)) throw bad(from, `${JSON.stringify(value)} is not a valid taint value`);
  if (!EFFECTS.includes(effect)) throw bad(from, `effect ${JSON.stringify(effect)} is not one of ${EFFECTS.join(', ')}`);
  return value ? { key, value, effect } : { key, effect };
}

function pick(flag: string | undefined, env: Env, variable: string, flagName: string): { value: string; from: string } | undefined {
  if (flag !== undefined) return { value: flag, from: flagName };
  const v = env[variable];
  return v !== undefined && v !== '' ? { value: v, from: variable } : undefined;
}

function resolveBool(raw: boolean | undefined, env: Env, variable: string): boolean {
  if (raw !== undefined) return raw;
  const v = env[variable]?.trim().toLowerCase();
  if (v === undefined || v === '') return false;
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw bad(variable, `${JSON.stringify(env[variable])} is not a boolean (true/false)`);
}

export function resolveAgentConfig(raw: RawAgentFlags, env: Env, cwd = '/', host: string = hostname()): AgentConfig {
  const dd = pick(raw.dataDir, env, 'EDGEOS_DATA_DIR', '--data-dir');
  if (dd && dd.value.trim() === '') throw bad(dd.from, 'must not be empty');
  const dataDir = dd ? resolve(cwd, dd.value) : '/var/lib/edgeos';
  const nn = pick(raw.nodeName, env, 'EDGEOS_NODE_NAME', '--node-name');
  const nodeName = nn ? nn.value : host.toLowerCase();
  if (nodeName.length > 253 || !dns1123Re.test(nodeName)) {
    throw bad(nn?.from ?? '--node-name', `${JSON.stringify(nodeName)} is not a lowercase DNS-1123 subdomain${nn ? '' : ' (the host name; pass --node-name)'}`);
  }
  const labels: Record<string, string> = {};
  for (const l of list(raw.nodeLabel, env, 'EDGEOS_NODE_LABEL', '--node-label')) {
    const [k, v] = parseLabel(l.value, l.from);
    labels[k] = v;
  }
  // --pool is the node label apps.edgeos.io/pool, which makes the node a member of that NodePool.
  const pool = pick(raw.pool, env, 'EDGEOS_POOL', '--pool');
  if (pool) {
    if (!isPoolName(pool.value)) throw bad(pool.from, `${JSON.stringify(pool.value)} is not a node pool name (a DNS-1123 label: at most 63 of [a-z0-9-], alphanumeric at both ends)`);
    const given = labels[POOL_LABEL];
    if (given !== undefined && given !== pool.value) throw bad(pool.from, `names pool ${JSON.stringify(pool.value)} but --node-label ${POOL_LABEL}=${given} another`);
    labels[POOL_LABEL] = pool.value;
  }
  const taints = list(raw.nodeTaint, env, 'EDGEOS_NODE_TAINT', '--node-taint').map((t) => parseTaint(t.value, t.from));
  const level = pick(raw.logLevel, env, 'EDGEOS_LOG_LEVEL', '--log-level');
  const logLevel = level ? level.value.trim().toLowerCase() : 'info';
  if (level && !LOG_LEVELS.includes(logLevel)) throw bad(level.from, `${JSON.stringify(level.value)} is not one of ${LOG_LEVELS.join(', ')}`);
  const cre = pick(raw.containerRuntimeEndpoint, env, 'EDGEOS_CONTAINER_RUNTIME_ENDPOINT', '--container-runtime-endpoint');
  const storage = pick(raw.defaultLocalStoragePath, env, 'EDGEOS_DEFAULT_LOCAL_STORAGE_PATH', '--default-local-storage-path');
  if (storage && storage.value.trim() === '') throw bad(storage.from, 'must not be empty');
  const cg = pick(raw.cgroupRoot, env, 'EDGEOS_CGROUP_ROOT', '--cgroup-root');
  const cgProblem = cg ? cgroupRootProblem(cg.value) : undefined;
  if (cg && cgProblem) throw bad(cg.from, cgProblem);
  const sync = pick(raw.syncFrequency, env, 'EDGEOS_SYNC_FREQUENCY', '--sync-frequency');
  const syncParsed = sync ? parseSyncFrequency(sync.value) : undefined;
  if (sync && syncParsed && 'problem' in syncParsed) throw bad(sync.from, syncParsed.problem);
  const syncFrequencyMs = syncParsed && 'ms' in syncParsed ? syncParsed.ms : undefined;
  const backend = pick(raw.podNetworkBackend, env, 'EDGEOS_POD_NETWORK_BACKEND', '--pod-network-backend');
  const podNetworkBackend = parsePodNetworkBackend(backend);
  const { podStartConcurrency } = resolveAgentTuning(env);
  return Object.freeze({
    dataDir,
    nodeName,
    register: Object.freeze({ labels: Object.freeze(labels), taints: Object.freeze(taints) }),
    disableRuntime: resolveBool(raw.disableRuntime, env, 'EDGEOS_DISABLE_RUNTIME'),
    containerRuntimeEndpoint: cre?.value,
    podCidr: pick(raw.podCidr, env, 'EDGEOS_POD_CIDR', '--pod-cidr')?.value,
    localStoragePath: storage ? resolve(cwd, storage.value) : resolve(dataDir, 'storage'),
    resolvConf: resolve(cwd, pick(raw.resolvConf, env, 'EDGEOS_RESOLV_CONF', '--resolv-conf')?.value ?? '/etc/resolv.conf'),
    cgroupRoot: cg?.value,
    syncFrequencyMs,
    podNetworkBackend,
    podStartConcurrency,
    logLevel,
  });
}
