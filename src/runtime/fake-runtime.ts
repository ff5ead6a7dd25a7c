import { randomBytes } from 'node:crypto';
import { ImageNotFoundError, RuntimeAlreadyExistsError, RuntimeInvalidRequestError, RuntimeNotFoundError } from './errors.ts';
import type {
  AttachRequest, Container, ContainerConfig, ContainerFilter, ContainerRuntime, ContainerStats, ContainerStatus,
  ExecSyncResult, Image, LogEntry, LogOptions, NodeStats, PodSandbox, PodSandboxConfig, PodSandboxFilter,
  PodSandboxStatus, RegistryAuth, RuntimeStatus, RuntimeVersion, StreamRequest,
} from './types.ts';

/**
 * An in-memory ContainerRuntime for the agent's unit tests: same state machine and error classes
 * as the CRI one (NotFound, AlreadyExists for a reused sandbox/container name, exited containers
 * on sandbox stop), no processes. Tests script it: add registry images, make execs answer, append
 * log lines, end containers. Never part of the product: the unit tests use it, and the fleet
 * simulator's hollow nodes (bench/fleet) run the real agent over it, as kubemark runs the real
 * kubelet over a fake runtime; they turn off the call log (it would grow for ever) and let any
 * image pull succeed.
 */
interface FakeContainer extends ContainerStatus { podSandboxId: string; logs: LogEntry[] }

export interface FakeRuntimeOptions {
  /** Keep every call in `calls` (default true; a long-running simulator turns it off). */
  readonly recordCalls?: boolean;
  /** Every pull finds its image (default false: only images added to `registry`). */
  readonly anyImage?: boolean;
}

const id = (): string => randomBytes(32).toString('hex');
const matches = (labels: Record<string, string>, sel?: Record<string, string>): boolean =>
  Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);

export class FakeRuntime implements ContainerRuntime {
  readonly ready: Promise<void> = Promise.resolve();
  readonly sandboxes = new Map<string, PodSandboxStatus & { config: PodSandboxConfig }>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, Image>();
  /** Images a pull can find; a pull of anything else fails with ImageNotFoundError. */
  readonly registry = new Set<string>();
  /** Answers execSync; default exits 0 with no output. */
  execHandler: (containerId: string, cmd: string[]) => ExecSyncResult = () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 });
  /** Every call, by method name, for assertions. */
  readonly calls: { method: string; args: unknown[] }[] = [];
  private nextIp = 2;
  private changes = 0;
  private readonly o: FakeRuntimeOptions;

  constructor(o: FakeRuntimeOptions = {}) {
    this.o = o;
  }

  private record(method: string, ...args: unknown[]): void {
    if (this.o.recordCalls !== false) this.calls.push({ method, args });
  }

  /** Moves with every sandbox or container change, all of which go through this class's methods. */
  stateVersion(): number {
    return this.changes;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async version(): Promise<RuntimeVersion> {
    return { runtimeName: 'fake', runtimeVersion: '0.0.0', runtimeApiVersion: 'v1' };
  }

  async status(): Promise<RuntimeStatus> {
    return { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: true, reason: '', message: '' }] };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.record('runPodSandbox', config);
    const m = config.metadata;
    for (const s of this.sandboxes.values()) {
      const o = s.metadata;
      if (o.name === m.name && o.namespace === m.namespace && o.uid === m.uid && o.attempt === m.attempt) {
        throw new RuntimeAlreadyExistsError(`RunPodSandbox: name ${m.name}_${m.namespace}_${m.uid}_${m.attempt} is reserved`);
      }
    }
    const sid = id();
    this.changes++;
    this.sandboxes.set(sid, {
      id: sid, metadata: { ...m }, state: 'ready', createdAtMs: Date.now(), labels: config.labels ?? {}, annotations: config.annotations ?? {},
      ip: config.hostNetwork ? '' : `10.88.${(this.nextIp >> 8) & 255}.${this.nextIp++ & 255}`, additionalIps: [], config,
    });
    return sid;
  }

  private sandbox(sid: string): PodSandboxStatus & { config: PodSandboxConfig } {
    const s = this.sandboxes.get(sid);
    if (!s) throw new RuntimeNotFoundError(`sandbox ${sid} not found`);
    return s;
  }

  async stopPodSandbox(sid: string): Promise<void> {
    this.record('stopPodSandbox', sid);
    this.sandbox(sid).state = 'notready';
    this.changes++;
    for (const c of this.containers.values()) if (c.podSandboxId === sid && c.state === 'running') this.exit(c.id, 137, 'Error');
  }

  async removePodSandbox(sid: string): Promise<void> {
    this.record('removePodSandbox', sid);
    if (!this.sandboxes.has(sid)) return;
    for (const c of [...this.containers.values()]) if (c.podSandboxId === sid) this.containers.delete(c.id);
    this.sandboxes.delete(sid);
    this.changes++;
  }

  async podSandboxStatus(sid: string): Promise<PodSandboxStatus> {
    const { config: _config, ...s } = this.sandbox(sid);
    return structuredClone(s);
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    return [...this.sandboxes.values()]
      .filter((s) => (!filter.id || s.id === filter.id) && (!filter.state || s.state === filter.state) && matches(s.labels, filter.labelSelector))
      .map(({ config: _c, ip: _i, additionalIps: _a, ...s }) => structuredClone(s));
  }

  async createContainer(sid: string, config: ContainerConfig, sandbox?: PodSandboxConfig): Promise<string> {
    this.record('createContainer', sid, config);
    const s = this.sandbox(sid);
    if (s.state !== 'ready') throw new RuntimeInvalidRequestError(`CreateContainer: sandbox ${sid} is not ready`);
    // containerd checks the sandbox config sent with the request, as here.
    if (config.security?.privileged && !sandbox?.privileged) throw new RuntimeInvalidRequestError('CreateContainer: no privileged container allowed in sandbox');
    const img = this.findImage(config.image);
    if (!img) throw new RuntimeNotFoundError(`CreateContainer: image "${config.image}" not found`);
    const attempt = config.attempt ?? 0;
    for (const c of this.containers.values()) {
      if (c.podSandboxId === sid && c.name === config.name && c.attempt === attempt) throw new RuntimeAlreadyExistsError(`CreateContainer: name ${config.name}_${attempt} is reserved`);
    }
    const cid = id();
    this.changes++;
    this.containers.set(cid, {
      id: cid, podSandboxId: sid, name: config.name, attempt, image: config.image, imageRef: img.id, state: 'created',
      createdAtMs: Date.now(), startedAtMs: 0, finishedAtMs: 0, exitCode: 0, reason: '', message: '',
      labels: config.labels ?? {}, annotations: config.annotations ?? {}, logPath: `/fake/${cid}.log`, logs: [],
    });
    return cid;
  }

  private container(cid: string): FakeContainer {
    const c = this.containers.get(cid);
    if (!c) throw new RuntimeNotFoundError(`container ${cid} not found`);
    return c;
  }

  async startContainer(cid: string): Promise<void> {
    this.record('startContainer', cid);
    const c = this.container(cid);
    if (c.state !== 'created') throw new RuntimeInvalidRequestError(`StartContainer: container ${cid} is ${c.state}`);
    c.state = 'running';
    c.startedAtMs = Date.now();
    this.changes++;
  }

  /** Test control: the container's process ends. */
  exit(cid: string, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): void {
    const c = this.container(cid);
    Object.assign(c, { state: 'exited', exitCode, reason, finishedAtMs: Date.now() });
    this.changes++;
  }

  /** Test control: the container writes a line. */
  writeLog(cid: string, content: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.container(cid).logs.push({ timestamp: new Date().toISOString(), stream, content: content.endsWith('\n') ? content : `${content}\n` });
  }

  async stopContainer(cid: string): Promise<void> {
    this.record('stopContainer', cid);
    const c = this.container(cid);
    if (c.state === 'running') this.exit(cid, 137, 'Error');
  }

  async removeContainer(cid: string): Promise<void> {
    this.record('removeContainer', cid);
    if (this.containers.delete(cid)) this.changes++;
  }

  async containerStatus(cid: string): Promise<ContainerStatus> {
    const { logs: _l, podSandboxId: _p, ...c } = this.container(cid);
    return structuredClone(c);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    return [...this.containers.values()]
      .filter((c) => (!filter.id || c.id === filter.id) && (!filter.podSandboxId || c.podSandboxId === filter.podSandboxId)
        && (!filter.state || c.state === filter.state) && matches(c.labels, filter.labelSelector))
      .map((c) => ({
        id: c.id, podSandboxId: c.podSandboxId, name: c.name, attempt: c.attempt, image: c.image, imageRef: c.imageRef,
        state: c.state, createdAtMs: c.createdAtMs, labels: { ...c.labels }, annotations: { ...c.annotations },
      }));
  }

  async execSync(cid: string, cmd: string[], _timeoutSeconds?: number): Promise<ExecSyncResult> {
    this.record('execSync', cid, cmd);
    if (this.container(cid).state !== 'running') throw new RuntimeInvalidRequestError(`ExecSync: container ${cid} is not running`);
    return this.execHandler(cid, cmd);
  }

  async exec(req: StreamRequest): Promise<string> {
    this.container(req.containerId);
    return `http://127.0.0.1:0/exec/${req.containerId}`;
  }

  async attach(req: AttachRequest): Promise<string> {
    this.container(req.containerId);
    return `http://127.0.0.1:0/attach/${req.containerId}`;
  }

  async portForward(sid: string): Promise<string> {
    this.sandbox(sid);
    return `http://127.0.0.1:0/portforward/${sid}`;
  }

  async *readLogs(cid: string, opts: LogOptions): AsyncIterable<LogEntry> {
    let logs = this.container(cid).logs.filter((e) => (!opts.stream || opts.stream === 'all' || e.stream === opts.stream)
      && (opts.sinceMs === undefined || Date.parse(e.timestamp) >= opts.sinceMs));
    if (opts.tailLines !== undefined) logs = opts.tailLines <= 0 ? [] : logs.slice(-opts.tailLines);
    yield* logs.map((e) => ({ ...e }));
  }

  async containerStats(filter: { podSandboxId?: string; containerId?: string } = {}): Promise<ContainerStats[]> {
    return (await this.listContainers({ id: filter.containerId, podSandboxId: filter.podSandboxId, state: 'running' })).map((c) => ({
      containerId: c.id, podSandboxId: c.podSandboxId, name: c.name, timestampMs: Date.now(),
      cpuUsageCoreNanoSeconds: 0, cpuUsageNanoCores: 0, memoryWorkingSetBytes: 0, memoryUsageBytes: 0, writableLayerBytes: 0,
    }));
  }

  async nodeStats(): Promise<NodeStats> {
    return {
      timestampMs: Date.now(), cpuUsageCoreNanoSeconds: 0, cpuUsageNanoCores: 0, memoryWorkingSetBytes: 0,
      memoryAvailableBytes: 0, memoryTotalBytes: 0, imageFsUsedBytes: 0, imageFsCapacityBytes: 0,
    };
  }

  private findImage(ref: string): Image | undefined {
    return this.images.get(ref) ?? [...this.images.values()].find((i) => i.repoTags.includes(ref) || i.repoDigests.includes(ref));
  }

  async imageStatus(ref: string): Promise<Image | undefined> {
    const i = this.findImage(ref);
    return i && structuredClone(i);
  }

  async listImages(): Promise<Image[]> {
    return [...this.images.values()].map((i) => structuredClone(i));
  }

  async pullImage(ref: string, auth?: RegistryAuth): Promise<string> {
    this.record('pullImage', ref, auth ? '[auth]' : undefined);
    if (!this.registry.has(ref) && !this.o.anyImage) throw new ImageNotFoundError(`pull ${ref}: image not found`);
    const existing = this.findImage(ref);
    if (existing) return existing.id;
    const imageId = `sha256:${id()}`;
    this.images.set(imageId, { id: imageId, repoTags: [ref], repoDigests: [], sizeBytes: 1024, pinned: false });
    return imageId;
  }

  async removeImage(ref: string): Promise<void> {
    this.record('removeImage', ref);
    const i = this.findImage(ref);
    if (i) this.images.delete(i.id);
  }
}
