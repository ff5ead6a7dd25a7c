import { isAbsolute, join } from 'node:path';
import { InvalidInputError } from '../common/errors.ts';
import { dataDirSuffix } from '../common/data-dir-names.ts';

/** Raw settings as flags/env give them (names mirror the K3s agent flags where one exists). */
export interface RuntimeOptions {
  /** --data-dir: everything the runtime writes lives under <dataDir>/agent. */
  dataDir: string;
  /** --container-runtime-endpoint: use this CRI socket as it is instead of a private containerd. */
  containerRuntimeEndpoint?: string;
  /** --containerd-path: containerd binary (default: `containerd` from PATH). */
  containerdPath?: string;
  /** ctr binary used for tarball imports (default: `ctr` from PATH). */
  ctrPath?: string;
  /** --private-registry: K3s registries.yaml (default /etc/edgeos/registries.yaml; may be absent). */
  privateRegistry?: string;
  /** --pod-cidr: the node's pod CIDR (IPv4), from node.spec.podCIDR. */
  podCidr?: string;
  /**
   * The pod network's MTU (the agent's overlay: underlay MTU − 50 for VXLAN); default: the
   * bridge plugin's (the host's default route interface's).
   */
  podMtu?: number;
  /**
   * Whether the bridge masquerades traffic leaving the node's pod CIDR (default true). The agent's
   * pod network turns it off and masquerades only what leaves the cluster CIDR itself.
   */
  podMasquerade?: boolean;
  /** --cni-bin-dir: CNI plugin binaries (Debian's containernetworking-plugins: /usr/lib/cni). */
  cniBinDir?: string;
  /** --cni-bridge: Linux bridge name; default derived from dataDir so two agents never share one. */
  cniBridge?: string;
  /** --pause-image: sandbox image; default is the one edgeos builds and imports itself. */
  pauseImage?: string;
  /** --image-gc-high-threshold / --image-gc-low-threshold, percent of the image filesystem. */
  imageGcHighPercent?: number;
  imageGcLowPercent?: number;
  /** Interval of the image GC and of the air-gap directory rescan. */
  imageGcIntervalMs?: number;
  /** Deadline of CRI calls (kubelet --runtime-request-timeout, default 2m). */
  runtimeRequestTimeoutMs?: number;
}

export interface RuntimeConfig {
  readonly dataDir: string;
  readonly agentDir: string;
  /** Private containerd, or undefined when an external endpoint is used. */
  readonly containerd: ContainerdPaths | undefined;
  readonly endpoint: string;
  readonly ctrPath: string;
  readonly registriesFile: string;
  readonly imagesDir: string;
  readonly podLogsDir: string;
  readonly pauseImage: string;
  /** True when edgeos must build and import the pause image itself. */
  readonly builtinPause: boolean;
  readonly cni: CniSettings;
  readonly imageGc: { readonly highPercent: number; readonly lowPercent: number; readonly intervalMs: number };
  readonly requestTimeoutMs: number;
}

export interface ContainerdPaths {
  readonly binary: string;
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly address: string;
  readonly configFile: string;
  readonly templateFile: string;
  readonly logFile: string;
  readonly pidFile: string;
  readonly runcRoot: string;
}

export interface CniSettings {
  readonly binDir: string;
  readonly confDir: string;
  readonly ipamDataDir: string;
  readonly bridge: string;
  readonly networkName: string;
  readonly podCidr: string;
  readonly mtu: number | undefined;
  readonly ipMasq: boolean;
}

/** The pause image edgeos writes itself (images/pause-image.ts); the tag tracks its format. */
export const builtinPauseImage = 'edgeos.local/pause:1';

const ifnameRe = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;

function bad(flag: string, message: string): never {
  throw new InvalidInputError(`${flag}: ${message}`);
}

function requireAbsolute(flag: string, value: string): string {
  if (!isAbsolute(value)) bad(flag, `must be an absolute path, got "${value}"`);
  return value;
}

/** Parses "a.b.c.d/n" (IPv4); returns the network address and prefix or throws naming the flag. */
export function parseCidr(flag: string, cidr: string): { network: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) bad(flag, `"${cidr}" is not an IPv4 CIDR like 10.42.0.0/24`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 30) bad(flag, `"${cidr}" needs octets ≤ 255 and a prefix from /8 to /30`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { network: addr - (addr % size), prefix };
}

function percent(flag: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 100) bad(flag, `must be a percentage 0–100, got ${value}`);
  return value;
}

/** Validates raw options into a frozen config; errors name the offending flag. */
export function resolveRuntimeConfig(opts: RuntimeOptions): RuntimeConfig {
  const dataDir = requireAbsolute('--data-dir', opts.dataDir);
  const agentDir = join(dataDir, 'agent');
  const cdDir = join(agentDir, 'containerd');
  let containerd: ContainerdPaths | undefined;
  let endpoint: string;
  if (opts.containerRuntimeEndpoint) {
    const ep = opts.containerRuntimeEndpoint.replace(/^unix:\/\//, '');
    endpoint = requireAbsolute('--container-runtime-endpoint', ep);
  } else {
    const state = join(cdDir, 'state');
    const address = join(cdDir, 'containerd.sock');
    // sun_path holds 107 bytes; containerd also binds <address>.ttrpc.
    if (Buffer.byteLength(address) + 6 > 107) bad('--data-dir', `too long for containerd's socket path (${address})`);
    containerd = Object.freeze({
      binary: opts.containerdPath ?? 'containerd',
      dir: cdDir,
      root: join(cdDir, 'root'),
      state,
      address,
      configFile: join(cdDir, 'config.toml'),
      templateFile: join(cdDir, 'config.toml.tmpl'),
      logFile: join(cdDir, 'containerd.log'),
      pidFile: join(cdDir, 'containerd.pid'),
      runcRoot: join(state, 'runc'),
    });
    endpoint = address;
  }

  if (opts.podMtu !== undefined && !(Number.isInteger(opts.podMtu) && opts.podMtu >= 576 && opts.podMtu <= 65535)) bad('pod MTU', `${opts.podMtu} is not between 576 and 65535`);
  const podCidr = opts.podCidr ?? '10.42.0.0/24';
  parseCidr('--pod-cidr', podCidr);
  const bridge = opts.cniBridge ?? `eos${dataDirSuffix(dataDir)}`;
  if (!ifnameRe.test(bridge)) bad('--cni-bridge', `"${bridge}" is not a valid interface name (1–15 of [a-zA-Z0-9_.-])`);

  const high = percent('--image-gc-high-threshold', opts.imageGcHighPercent ?? 85);
  const low = percent('--image-gc-low-threshold', opts.imageGcLowPercent ?? 80);
  if (low > high) bad('--image-gc-low-threshold', `(${low}) must not exceed --image-gc-high-threshold (${high})`);
  const interval = opts.imageGcIntervalMs ?? 5 * 60_000;
  if (!(interval >= 1000)) bad('--image-gc-interval', `must be at least 1000 ms, got ${interval}`);
  const timeout = opts.runtimeRequestTimeoutMs ?? 120_000;
  if (!(timeout >= 1000)) bad('--runtime-request-timeout', `must be at least 1000 ms, got ${timeout}`);

  const pauseImage = opts.pauseImage ?? builtinPauseImage;
  return Object.freeze({
    dataDir,
    agentDir,
    containerd,
    endpoint,
    ctrPath: opts.ctrPath ?? 'ctr',
    registriesFile: requireAbsolute('--private-registry', opts.privateRegistry ?? '/etc/edgeos/registries.yaml'),
    imagesDir: join(agentDir, 'images'),
    podLogsDir: join(agentDir, 'pod-logs'),
    pauseImage,
    builtinPause: pauseImage === builtinPauseImage,
    cni: Object.freeze({
      binDir: requireAbsolute('--cni-bin-dir', opts.cniBinDir ?? '/usr/lib/cni'),
      confDir: join(agentDir, 'etc', 'cni', 'net.d'),
      ipamDataDir: join(agentDir, 'cni', 'networks'),
      bridge,
      networkName: `edgeos-${bridge}`,
      podCidr,
      mtu: opts.podMtu,
      ipMasq: opts.podMasquerade ?? true,
    }),
    imageGc: Object.freeze({ highPercent: high, lowPercent: low, intervalMs: interval }),
    requestTimeoutMs: timeout,
  });
}
