import { podLogDirectory } from '../logs/pod-log-dir.ts';
import type {
  Container, ContainerConfig, ContainerState, ContainerStatus, Image, PodSandbox, PodSandboxConfig,
  PodSandboxStatus, SandboxState,
} from '../types.ts';
import type { WireContainer, WireContainerState, WireContainerStatus, WireImage, WirePodSandbox, WirePodSandboxStatus } from './wire.ts';

/** CRI timestamps are int64 nanoseconds as strings; ms keeps full precision up to year 287396. */
export function nsToMs(ns: string | undefined): number {
  if (!ns || ns === '0') return 0;
  return Number(BigInt(ns) / 1_000_000n);
}

export function sandboxLogDirectory(podLogsDir: string, cfg: PodSandboxConfig): string {
  return cfg.logDirectory ?? podLogDirectory(podLogsDir, cfg.metadata);
}

/**
 * PodSandboxConfig on the wire. Without a logDirectory from the agent, one under the runtime's
 * pod-logs dir is used (kubelet's /var/log/pods/<ns>_<name>_<uid> layout) so logs always work;
 * it is derived from the metadata, so the copy sent again with CreateContainer matches.
 */
export function toWireSandboxConfig(cfg: PodSandboxConfig, podLogsDir: string): object {
  return {
    metadata: cfg.metadata,
    hostname: cfg.hostname ?? (cfg.hostNetwork ? '' : cfg.metadata.name),
    logDirectory: sandboxLogDirectory(podLogsDir, cfg),
    dnsConfig: cfg.dnsConfig,
    portMappings: (cfg.portMappings ?? []).map((p) => ({
      protocol: p.protocol, containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIp ?? '',
    })),
    labels: cfg.labels ?? {},
    annotations: cfg.annotations ?? {},
    linux: {
      cgroupParent: cfg.cgroupParent ?? '',
      sysctls: cfg.sysctls ?? {},
      securityContext: {
        namespaceOptions: { network: cfg.hostNetwork ? 'NODE' : 'POD', pid: cfg.hostPid ? 'NODE' : 'CONTAINER', ipc: cfg.hostIpc ? 'NODE' : 'POD' },
        runAsUser: cfg.runAsUser !== undefined ? { value: cfg.runAsUser } : null,
        runAsGroup: cfg.runAsGroup !== undefined ? { value: cfg.runAsGroup } : null,
        supplementalGroups: cfg.supplementalGroups ?? [],
        privileged: cfg.privileged ?? false,
      },
    },
  };
}

export function toWireContainerConfig(c: ContainerConfig, sandbox: PodSandboxConfig): object {
  const r = c.resources ?? {};
  const s = c.security ?? {};
  const attempt = c.attempt ?? 0;
  return {
    metadata: { name: c.name, attempt },
    image: { image: c.image },
    command: c.command ?? [],
    args: c.args ?? [],
    workingDir: c.workingDir ?? '',
    envs: Object.entries(c.env ?? {}).map(([key, value]) => ({ key, value })),
    mounts: (c.mounts ?? []).map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly ?? false })),
    labels: c.labels ?? {},
    annotations: c.annotations ?? {},
    // kubelet's layout: <container>/<restartCount>.log, which is what `previous` looks for.
    logPath: c.logPath ?? `${c.name}/${attempt}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: {
        cpuPeriod: r.cpuPeriod ?? 0,
        cpuQuota: r.cpuQuota ?? 0,
        cpuShares: r.cpuShares ?? 0,
        memoryLimitInBytes: r.memoryLimitBytes ?? 0,
        oomScoreAdj: r.oomScoreAdj ?? 0,
      },
      securityContext: {
        capabilities: { addCapabilities: s.addCapabilities ?? [], dropCapabilities: s.dropCapabilities ?? [] },
        privileged: s.privileged ?? false,
        // kubelet's namespacesForPod: host namespaces win, then a target container, then sharing.
        namespaceOptions: {
          network: sandbox.hostNetwork ? 'NODE' : 'POD',
          pid: sandbox.hostPid ? 'NODE' : s.pidTargetContainerId ? 'TARGET' : (s.pidNamespace ?? 'CONTAINER'),
          ipc: sandbox.hostIpc ? 'NODE' : 'POD',
          targetId: sandbox.hostPid ? '' : (s.pidTargetContainerId ?? ''),
        },
        runAsUser: s.runAsUser !== undefined ? { value: s.runAsUser } : null,
        runAsGroup: s.runAsGroup !== undefined ? { value: s.runAsGroup } : null,
        supplementalGroups: s.supplementalGroups ?? [],
        readonlyRootfs: s.readonlyRootfs ?? false,
        noNewPrivs: s.noNewPrivs ?? false,
        ...(s.seccomp ? { seccomp: { profileType: s.seccomp.type, localhostRef: s.seccomp.localhostRef ?? '' } } : {}),
      },
    },
  };
}

const sandboxStates: Record<string, SandboxState> = { SANDBOX_READY: 'ready', SANDBOX_NOTREADY: 'notready' };
const containerStates: Record<WireContainerState, ContainerState> = {
  CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited', CONTAINER_UNKNOWN: 'unknown',
};
export const wireContainerStates: Record<ContainerState, WireContainerState> = {
  created: 'CONTAINER_CREATED', running: 'CONTAINER_RUNNING', exited: 'CONTAINER_EXITED', unknown: 'CONTAINER_UNKNOWN',
};

export function fromWireSandbox(s: WirePodSandbox): PodSandbox {
  return {
    id: s.id,
    metadata: s.metadata ?? { name: '', uid: '', namespace: '', attempt: 0 },
    state: sandboxStates[s.state] ?? 'notready',
    createdAtMs: nsToMs(s.createdAt),
    labels: s.labels,
    annotations: s.annotations,
  };
}

export function fromWireSandboxStatus(s: WirePodSandboxStatus): PodSandboxStatus {
  return {
    ...fromWireSandbox(s),
    ip: s.network?.ip ?? '',
    additionalIps: (s.network?.additionalIps ?? []).map((p) => p.ip),
  };
}

export function fromWireContainer(c: WireContainer): Container {
  return {
    id: c.id,
    podSandboxId: c.podSandboxId,
    name: c.metadata?.name ?? '',
    attempt: c.metadata?.attempt ?? 0,
    image: c.image?.image ?? '',
    imageRef: c.imageRef,
    state: containerStates[c.state] ?? 'unknown',
    createdAtMs: nsToMs(c.createdAt),
    labels: c.labels,
    annotations: c.annotations,
  };
}

export function fromWireContainerStatus(c: WireContainerStatus): ContainerStatus {
  return {
    id: c.id,
    name: c.metadata?.name ?? '',
    attempt: c.metadata?.attempt ?? 0,
    image: c.image?.image ?? '',
    imageRef: c.imageRef,
    state: containerStates[c.state] ?? 'unknown',
    createdAtMs: nsToMs(c.createdAt),
    startedAtMs: nsToMs(c.startedAt),
    finishedAtMs: nsToMs(c.finishedAt),
    exitCode: c.exitCode,
    reason: c.reason,
    message: c.message,
    labels: c.labels,
    annotations: c.annotations,
    logPath: c.logPath,
  };
}

export function fromWireImage(i: WireImage): Image {
  return {
    id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, sizeBytes: Number(i.size), pinned: i.pinned,
    ...(i.uid ? { uid: Number(i.uid.value) } : {}),
    ...(i.username ? { username: i.username } : {}),
  };
}
