import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../common/log.ts';
import { createSupervisor } from '../common/supervisor.ts';
import type { Component, Supervisor } from '../common/supervisor.ts';
import { CriClient } from './cri/client.ts';
import {
  fromWireContainer, fromWireContainerStatus, fromWireImage, fromWireSandbox, fromWireSandboxStatus, nsToMs,
  toWireContainerConfig, toWireSandboxConfig, wireContainerStates,
} from './cri/convert.ts';
import { classifyPullError, RuntimeError, RuntimeNotFoundError } from './errors.ts';
import { readCriLog } from './logs/cri-log.ts';
import { CpuRate, filesystemUsage, readNodeCpuMem } from './stats/node-stats.ts';
import type {
  AttachRequest, Container, ContainerConfig, ContainerFilter, ContainerRuntime, ContainerStats, ContainerStatus,
  ExecSyncResult, Image, LogEntry, LogOptions, NodeStats, PodSandbox, PodSandboxConfig, PodSandboxFilter,
  PodSandboxStatus, RegistryAuth, RuntimeStatus, RuntimeVersion, StreamRequest,
} from './types.ts';

export interface CriRuntimeOptions {
  endpoint: string;
  log: Logger;
  requestTimeoutMs: number;
  /** Where sandboxes without a logDirectory keep their container logs. */
  podLogsDir: string;
  /**
   * Parts started in order by start() (CNI config, containerd, images), stopped in reverse;
   * `ready` resolves once they run and the CRI endpoint answers.
   */
  components?: Component[];
  /**
   * The owner, told when a part fails in the background (containerd cannot be restarted); it
   * must then stop the runtime. Without one the runtime stops itself.
   */
  onFailure?: (err: Error) => void;
}

const PULL_TIMEOUT_MS = 30 * 60_000;

/** ContainerRuntime over any CRI runtime.v1 endpoint (containerd here). */
export class CriRuntime implements ContainerRuntime {
  readonly ready: Promise<void>;
  readonly client: CriClient;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private readonly opts: CriRuntimeOptions;
  private readonly parts: Supervisor;
  private readonly cpu = new CpuRate();

  constructor(opts: CriRuntimeOptions) {
    this.opts = opts;
    this.client = new CriClient({ endpoint: opts.endpoint, defaultTimeoutMs: opts.requestTimeoutMs });
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.parts = createSupervisor({ name: 'runtime', log: opts.log, ...(opts.onFailure ? { onFailure: opts.onFailure } : {}) });
    for (const c of opts.components ?? []) this.parts.add(c);
    this.parts.add({
      name: 'cri',
      start: async () => {
        const v = await this.version();
        this.opts.log.info({ endpoint: this.opts.endpoint, ...v }, 'container runtime ready');
      },
      stop: async () => undefined,
    });
  }

  /** A part failed in the background (its supervisor calls this): the runtime shuts down. */
  fail(part: string, err: unknown): void {
    this.parts.fail(part, err);
  }

  /** How long stop() may take: the sum of the parts' deadlines. */
  get stopDeadlineMs(): number {
    return this.parts.stopDeadlineMs;
  }

  async start(signal: AbortSignal): Promise<void> {
    try {
      await this.parts.start(signal);
      if (this.parts.stopping) throw new RuntimeError('RUNTIME_STOPPED', 'runtime stopped while starting');
      this.resolveReady();
    } catch (err) {
      this.rejectReady(err as Error);
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.parts.stop();
    this.client.close();
  }

  async version(): Promise<RuntimeVersion> {
    const r = await this.client.call('Version', { version: 'v1' }, { timeoutMs: 10_000 });
    return { runtimeName: r.runtimeName, runtimeVersion: r.runtimeVersion, runtimeApiVersion: r.runtimeApiVersion };
  }

  async status(): Promise<RuntimeStatus> {
    const r = await this.client.call('Status', { verbose: false }, { timeoutMs: 10_000 });
    return { conditions: (r.status?.conditions ?? []).map((c) => ({ ...c })) };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const r = await this.client.call('RunPodSandbox', { config: toWireSandboxConfig(config, this.opts.podLogsDir), runtimeHandler: '' });
    return r.podSandboxId;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.client.call('StopPodSandbox', { podSandboxId: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.client.call('RemovePodSandbox', { podSandboxId: id });
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const r = await this.client.call('PodSandboxStatus', { podSandboxId: id, verbose: false });
    if (!r.status) throw new RuntimeNotFoundError(`PodSandboxStatus: sandbox ${id} not found`);
    return fromWireSandboxStatus(r.status);
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const r = await this.client.call('ListPodSandbox', {
      filter: {
        id: filter.id ?? '',
        state: filter.state ? { state: filter.state === 'ready' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY' } : null,
        labelSelector: filter.labelSelector ?? {},
      },
    });
    return r.items.map(fromWireSandbox);
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const r = await this.client.call('CreateContainer', {
      podSandboxId,
      config: toWireContainerConfig(config, sandbox),
      sandboxConfig: toWireSandboxConfig(sandbox, this.opts.podLogsDir),
    });
    return r.containerId;
  }

  async startContainer(id: string): Promise<void> {
    await this.client.call('StartContainer', { containerId: id });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    // The grace period runs inside the call; the deadline must outlast it.
    await this.client.call('StopContainer', { containerId: id, timeout: timeoutSeconds }, {
      timeoutMs: this.opts.requestTimeoutMs + timeoutSeconds * 1000,
    });
  }

  async removeContainer(id: string): Promise<void> {
    await this.client.call('RemoveContainer', { containerId: id });
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const r = await this.client.call('ContainerStatus', { containerId: id, verbose: false });
    if (!r.status) throw new RuntimeNotFoundError(`ContainerStatus: container ${id} not found`);
    return fromWireContainerStatus(r.status);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const r = await this.client.call('ListContainers', {
      filter: {
        id: filter.id ?? '',
        podSandboxId: filter.podSandboxId ?? '',
        state: filter.state ? { state: wireContainerStates[filter.state] } : null,
        labelSelector: filter.labelSelector ?? {},
      },
    });
    return r.containers.map(fromWireContainer);
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const timeoutMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 10_000 : undefined;
    const r = await this.client.call('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, timeoutMs ? { timeoutMs } : {});
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }

  async exec(req: StreamRequest): Promise<string> {
    const r = await this.client.call('Exec', {
      containerId: req.containerId, cmd: req.cmd, tty: req.tty ?? false,
      stdin: req.stdin ?? false, stdout: req.stdout ?? true, stderr: req.tty ? false : (req.stderr ?? true),
    });
    return r.url;
  }

  async attach(req: AttachRequest): Promise<string> {
    const r = await this.client.call('Attach', {
      containerId: req.containerId, tty: req.tty ?? false,
      stdin: req.stdin ?? false, stdout: req.stdout ?? true, stderr: req.tty ? false : (req.stderr ?? true),
    });
    return r.url;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    const r = await this.client.call('PortForward', { podSandboxId, port: ports });
    return r.url;
  }

  async *readLogs(containerId: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<LogEntry> {
    const status = await this.containerStatus(containerId);
    if (!status.logPath) throw new RuntimeNotFoundError(`logs: container ${containerId} has no log file`);
    if (opts.previous) {
      yield* readCriLog(await previousLogFile(status.logPath, containerId), opts);
      return;
    }
    const stillWriting = async (): Promise<boolean> => {
      try {
        return (await this.containerStatus(containerId)).state === 'running';
      } catch {
        return false;
      }
    };
    yield* readCriLog(status.logPath, opts, opts.follow ? { stillWriting, signal } : undefined);
  }

  async containerStats(filter: { podSandboxId?: string; containerId?: string } = {}): Promise<ContainerStats[]> {
    const [stats, containers] = await Promise.all([
      this.client.call('ListContainerStats', { filter: { id: filter.containerId ?? '', podSandboxId: filter.podSandboxId ?? '', labelSelector: {} } }),
      this.listContainers({ id: filter.containerId, podSandboxId: filter.podSandboxId }),
    ]);
    const sandboxOf = new Map(containers.map((c) => [c.id, c.podSandboxId]));
    const out: ContainerStats[] = [];
    for (const s of stats.stats) {
      const id = s.attributes?.id ?? '';
      const at = nsToMs(s.cpu?.timestamp) || Date.now();
      const cumulative = Number(s.cpu?.usageCoreNanoSeconds?.value ?? 0);
      const reported = Number(s.cpu?.usageNanoCores?.value ?? 0);
      const rate = this.cpu.rate(id, cumulative, at);
      out.push({
        containerId: id,
        podSandboxId: sandboxOf.get(id) ?? '',
        name: s.attributes?.metadata?.name ?? '',
        timestampMs: at,
        cpuUsageCoreNanoSeconds: cumulative,
        cpuUsageNanoCores: reported || rate,
        memoryWorkingSetBytes: Number(s.memory?.workingSetBytes?.value ?? 0),
        memoryUsageBytes: Number(s.memory?.usageBytes?.value ?? 0),
        writableLayerBytes: Number(s.writableLayer?.usedBytes?.value ?? 0),
      });
    }
    if (!filter.containerId && !filter.podSandboxId) this.cpu.retain(new Set(out.map((s) => s.containerId)));
    return out;
  }

  async nodeStats(): Promise<NodeStats> {
    const [node, fsInfo] = await Promise.all([readNodeCpuMem(), this.client.call('ImageFsInfo', {}, { timeoutMs: 10_000 })]);
    const at = Date.now();
    const imageFs = fsInfo.imageFilesystems[0];
    const mount = imageFs?.fsId?.mountpoint;
    const capacity = mount ? (await filesystemUsage(mount).catch(() => undefined))?.capacityBytes ?? 0 : 0;
    return {
      timestampMs: at,
      cpuUsageCoreNanoSeconds: node.cpuUsageCoreNanoSeconds,
      cpuUsageNanoCores: this.cpu.rate('node', node.cpuUsageCoreNanoSeconds, at),
      memoryWorkingSetBytes: node.memoryWorkingSetBytes,
      memoryAvailableBytes: node.memoryAvailableBytes,
      memoryTotalBytes: node.memoryTotalBytes,
      imageFsUsedBytes: Number(imageFs?.usedBytes?.value ?? 0),
      imageFsCapacityBytes: capacity,
    };
  }

  async imageStatus(ref: string): Promise<Image | undefined> {
    const r = await this.client.call('ImageStatus', { image: { image: ref }, verbose: false });
    return r.image && r.image.id ? fromWireImage(r.image) : undefined;
  }

  async listImages(): Promise<Image[]> {
    const r = await this.client.call('ListImages', { filter: null });
    return r.images.map(fromWireImage);
  }

  async pullImage(ref: string, auth?: RegistryAuth, sandbox?: PodSandboxConfig): Promise<string> {
    const started = Date.now();
    try {
      const r = await this.client.call('PullImage', {
        image: { image: ref },
        auth: auth ? withSchemeServerAddress(auth) : null,
        sandboxConfig: sandbox ? toWireSandboxConfig(sandbox, this.opts.podLogsDir) : null,
      }, { timeoutMs: PULL_TIMEOUT_MS });
      this.opts.log.info({ image: ref, imageRef: r.imageRef, ms: Date.now() - started, withAuth: auth !== undefined }, 'image pulled');
      return r.imageRef;
    } catch (err) {
      throw err instanceof RuntimeError ? classifyPullError(ref, err) : err;
    }
  }

  async removeImage(ref: string): Promise<void> {
    await this.client.call('RemoveImage', { image: { image: ref } });
  }
}

/**
 * containerd matches AuthConfig.server_address to the pull's host with url.Parse(address).Host; a
 * bare "host:port" (how dockerconfigjson keys usually look) parses with an empty Host, and the
 * credentials were silently dropped. A scheme makes the host parse; the scheme itself is unused.
 */
function withSchemeServerAddress(auth: RegistryAuth): RegistryAuth {
  const a = auth.serverAddress;
  return a && !a.includes('://') ? { ...auth, serverAddress: `https://${a}` } : auth;
}

/**
 * kubelet names log files <container>/<restartCount>.log; the previous instance's file is the
 * highest-numbered one below the current.
 */
async function previousLogFile(current: string, containerId: string): Promise<string> {
  const dir = dirname(current);
  const n = Number.parseInt(basename(current), 10);
  const candidates = (await readdir(dir).catch(() => [] as string[]))
    .map((f) => ({ f, n: /^\d+\.log$/.test(f) ? Number.parseInt(f, 10) : NaN }))
    .filter((c) => Number.isFinite(c.n) && (!Number.isFinite(n) || c.n < n))
    .sort((a, b) => b.n - a.n);
  if (!Number.isFinite(n) || candidates.length === 0) {
    throw new RuntimeNotFoundError(`logs: previous terminated container of ${containerId} not found`);
  }
  return join(dir, candidates[0]!.f);
}
