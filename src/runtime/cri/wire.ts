/**
 * The CRI messages as cri/codec.ts decodes them: camelCase fields, enums as their names,
 * int64/uint64 as decimal strings (nanosecond timestamps exceed 2^53), every field present with
 * its default. Only the fields edgeos reads are declared.
 */

export type Labels = Record<string, string>;

export interface WireSandboxMetadata { name: string; uid: string; namespace: string; attempt: number }
export interface WireContainerMetadata { name: string; attempt: number }
export interface WireImageSpec { image: string }

export interface WirePodSandbox {
  id: string;
  metadata: WireSandboxMetadata | null;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: string;
  labels: Labels;
  annotations: Labels;
}

export interface WirePodSandboxStatus extends WirePodSandbox {
  network: { ip: string; additionalIps: { ip: string }[] } | null;
}

export type WireContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface WireContainer {
  id: string;
  podSandboxId: string;
  metadata: WireContainerMetadata | null;
  image: WireImageSpec | null;
  imageRef: string;
  state: WireContainerState;
  createdAt: string;
  labels: Labels;
  annotations: Labels;
}

export interface WireContainerStatus {
  id: string;
  metadata: WireContainerMetadata | null;
  state: WireContainerState;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  image: WireImageSpec | null;
  imageRef: string;
  reason: string;
  message: string;
  labels: Labels;
  annotations: Labels;
  logPath: string;
}

export interface WireUInt64 { value: string }

export interface WireContainerStats {
  attributes: { id: string; metadata: WireContainerMetadata | null; labels: Labels } | null;
  cpu: { timestamp: string; usageCoreNanoSeconds: WireUInt64 | null; usageNanoCores: WireUInt64 | null } | null;
  memory: { timestamp: string; workingSetBytes: WireUInt64 | null; usageBytes: WireUInt64 | null } | null;
  writableLayer: { usedBytes: WireUInt64 | null } | null;
}

export interface WireImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: string;
  pinned: boolean;
  uid: { value: string } | null;
  username: string;
}

export interface WireFilesystemUsage {
  timestamp: string;
  fsId: { mountpoint: string } | null;
  usedBytes: WireUInt64 | null;
}

/** Responses, by RPC name. */
export interface CriResponses {
  Version: { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string };
  Status: { status: { conditions: { type: string; status: boolean; reason: string; message: string }[] } | null };
  RunPodSandbox: { podSandboxId: string };
  StopPodSandbox: Record<string, never>;
  RemovePodSandbox: Record<string, never>;
  PodSandboxStatus: { status: WirePodSandboxStatus | null };
  ListPodSandbox: { items: WirePodSandbox[] };
  CreateContainer: { containerId: string };
  StartContainer: Record<string, never>;
  StopContainer: Record<string, never>;
  RemoveContainer: Record<string, never>;
  ListContainers: { containers: WireContainer[] };
  ContainerStatus: { status: WireContainerStatus | null };
  ExecSync: { stdout: Buffer; stderr: Buffer; exitCode: number };
  Exec: { url: string };
  Attach: { url: string };
  PortForward: { url: string };
  ContainerStats: { stats: WireContainerStats | null };
  ListContainerStats: { stats: WireContainerStats[] };
  ListImages: { images: WireImage[] };
  ImageStatus: { image: WireImage | null };
  PullImage: { imageRef: string };
  RemoveImage: Record<string, never>;
  ImageFsInfo: { imageFilesystems: WireFilesystemUsage[] };
}

export type CriMethod = keyof CriResponses;
