/**
 * The one contract between the agent and whatever runs its containers. It follows the shape of the
 * CRI (k8s.io/cri-api runtime.v1) the way a kubelet uses it, trimmed to what edgeos needs and with
 * plain camelCase objects: timestamps are milliseconds since the epoch, absent strings are ''.
 * Implementations: the CRI one over containerd (cri-runtime.ts) and a fake for agent unit tests
 * (fake-runtime.ts). Errors thrown are RuntimeError subclasses (errors.ts).
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type SandboxState = 'ready' | 'notready';
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PortMapping {
  protocol: Protocol;
  containerPort: number;
  hostPort: number;
  hostIp?: string;
}

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Absolute directory for the containers' log files (kubelet: /var/log/pods/<ns>_<name>_<uid>). */
  logDirectory?: string;
  dnsConfig?: DnsConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Host network namespace (pod.spec.hostNetwork). */
  hostNetwork?: boolean;
  /** Host PID namespace (pod.spec.hostPID): every container sees the host's processes. */
  hostPid?: boolean;
  /** Host IPC namespace (pod.spec.hostIPC). */
  hostIpc?: boolean;
  cgroupParent?: string;
  sysctls?: Record<string, string>;
  /** The sandbox (pause) process's user and groups, from the pod's securityContext. */
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  /**
   * Some container of the pod is privileged. containerd refuses a privileged container in a
   * sandbox not marked so ("no privileged container allowed in sandbox"); the kubelet sets it from
   * every container of the pod, ephemeral ones included (HasPrivilegedContainer).
   */
  privileged?: boolean;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: SandboxState;
  createdAtMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxStatus extends PodSandbox {
  /** Primary pod IP ('' with host network or before networking is set up). */
  ip: string;
  additionalIps: string[];
}

export interface PodSandboxFilter {
  id?: string;
  state?: SandboxState;
  labelSelector?: Record<string, string>;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
}

export interface ContainerResources {
  /** CFS period/quota in microseconds; 0 leaves the default. */
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitBytes?: number;
  oomScoreAdj?: number;
}

export interface ContainerSecurity {
  privileged?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  /** Extra groups of the container's processes (kubelet: fsGroup, then supplementalGroups). */
  supplementalGroups?: number[];
  readonlyRootfs?: boolean;
  addCapabilities?: string[];
  dropCapabilities?: string[];
  /** Process namespace sharing (pod.spec.shareProcessNamespace → 'POD'); default 'CONTAINER'. */
  pidNamespace?: NamespaceMode;
  /**
   * Join this container's process namespace (CRI NamespaceMode TARGET with target_id): an
   * ephemeral container's targetContainerName. Overrides pidNamespace.
   */
  pidTargetContainerId?: string;
  /** no_new_privs for the container's processes (allowPrivilegeEscalation: false). */
  noNewPrivs?: boolean;
  /** The seccomp profile; absent: unconfined, as the kubelet sends for pods that name none. */
  seccomp?: SeccompProfile;
}

export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Absolute path of the profile file for Localhost. */
  localhostRef?: string;
}

export interface ContainerConfig {
  name: string;
  attempt?: number;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Record<string, string>;
  mounts?: Mount[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's logDirectory (kubelet: <container>/<restartCount>.log). */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  resources?: ContainerResources;
  security?: ContainerSecurity;
}

export interface Container {
  id: string;
  podSandboxId: string;
  name: string;
  attempt: number;
  image: string;
  imageRef: string;
  state: ContainerState;
  createdAtMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** CRI's ContainerStatus does not name the sandbox; listContainers does. */
export interface ContainerStatus extends Omit<Container, 'podSandboxId'> {
  startedAtMs: number;
  finishedAtMs: number;
  exitCode: number;
  /** CamelCase reason ("OOMKilled", "Completed", "Error"). */
  reason: string;
  message: string;
  /** Absolute path of the CRI-format log file ('' when the container has none). */
  logPath: string;
}

export interface ContainerFilter {
  id?: string;
  podSandboxId?: string;
  state?: ContainerState;
  labelSelector?: Record<string, string>;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface StreamRequest {
  containerId: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface AttachRequest {
  containerId: string;
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (kubectl logs --tail). */
  tailLines?: number;
  /** Only lines at or after this time, ms since the epoch (kubectl logs --since/--since-time). */
  sinceMs?: number;
  /** Stop after this many bytes of content (kubectl logs --limit-bytes). */
  limitBytes?: number;
  /** The previous instance's log file of this container (kubectl logs --previous). */
  previous?: boolean;
  stream?: LogStream | 'all';
}

/** One line of a container log; a runtime-split long line (CRI "P" tags) arrives joined. */
export interface LogEntry {
  /** RFC3339Nano, exactly as the runtime wrote it. */
  timestamp: string;
  stream: LogStream;
  /** The line content including its trailing '\n' (absent only on an unterminated last line). */
  content: string;
}

export interface ContainerStats {
  containerId: string;
  podSandboxId: string;
  name: string;
  timestampMs: number;
  /** Cumulative CPU time across all cores. */
  cpuUsageCoreNanoSeconds: number;
  /** Average CPU use since the previous sample in nanocores (1e9 = one core); 0 on the first. */
  cpuUsageNanoCores: number;
  memoryWorkingSetBytes: number;
  memoryUsageBytes: number;
  writableLayerBytes: number;
}

export interface NodeStats {
  timestampMs: number;
  cpuUsageCoreNanoSeconds: number;
  cpuUsageNanoCores: number;
  memoryWorkingSetBytes: number;
  memoryAvailableBytes: number;
  memoryTotalBytes: number;
  imageFsUsedBytes: number;
  imageFsCapacityBytes: number;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  sizeBytes: number;
  pinned: boolean;
  /** The image's numeric user, when its config names one (USER 65534 or 65534:65534). */
  uid?: number;
  /** The image's user when it is a name ("nobody"), which only the container's /etc/passwd resolves. */
  username?: string;
}

/** Registry credentials for one pull (from an imagePullSecret); never logged. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64("user:password"), as in a dockerconfigjson "auth" field. */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  /** RuntimeReady and NetworkReady, as the CRI reports them. */
  conditions: RuntimeCondition[];
}

export interface ContainerRuntime {
  /** Resolves once the runtime answers and offline images (pause, air-gap tarballs) are imported. */
  readonly ready: Promise<void>;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;

  version(): Promise<RuntimeVersion>;
  status(): Promise<RuntimeStatus>;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  createContainer(podSandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;

  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  /** URLs on containerd's streaming server; the agent proxies the client's SPDY/WebSocket upgrade. */
  exec(req: StreamRequest): Promise<string>;
  attach(req: AttachRequest): Promise<string>;
  portForward(podSandboxId: string, ports: number[]): Promise<string>;

  /** Lines of the container's CRI log file; with follow, until the container exits or signal aborts. */
  readLogs(containerId: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<LogEntry>;

  containerStats(filter?: { podSandboxId?: string; containerId?: string }): Promise<ContainerStats[]>;
  nodeStats(): Promise<NodeStats>;

  /** undefined when the image is not present. */
  imageStatus(ref: string): Promise<Image | undefined>;
  listImages(): Promise<Image[]>;
  /** Returns the image reference (digest) containerd resolved. */
  pullImage(ref: string, auth?: RegistryAuth, sandbox?: PodSandboxConfig): Promise<string>;
  removeImage(ref: string): Promise<void>;

  /**
   * A number that moves whenever a sandbox or container appears, goes or changes state, for a
   * runtime that knows every such change as it happens (the in-memory one: nothing changes but
   * through its calls). The PLEG skips the relist of a period in which it did not move. A runtime
   * whose containers change on their own (containerd: a process exits) has none and is relisted.
   */
  stateVersion?(): number;
}
