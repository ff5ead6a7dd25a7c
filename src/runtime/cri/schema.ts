/**
 * A trimmed k8s.io/cri-api runtime.v1 schema as tables for cri/codec.ts: only the RPCs and fields
 * edgeos uses, with the field numbers and types of the upstream api.proto (proto3 skips fields it
 * does not know, so a trimmed schema is wire-compatible). Field names are the proto names in
 * camelCase, as the rest of src/runtime sees them (cri/wire.ts). KeyValue.value is `string` as in
 * cri-api ≤ v0.35; newer releases made it `bytes`, which is the same on the wire.
 *
 * A field is `[number, type]` or `[number, type, 'repeated']`. A type is a scalar, `map` (every map
 * in CRI that edgeos uses is map<string, string>), or the name of a message or enum below.
 */

export type ScalarType = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bytes';
export type FieldDef = readonly [number: number, type: string, repeated?: 'repeated'];
export type MessageDef = Readonly<Record<string, FieldDef>>;

export const criEnums: Readonly<Record<string, readonly string[]>> = {
  // Value = index.
  Protocol: ['TCP', 'UDP', 'SCTP'],
  NamespaceMode: ['POD', 'CONTAINER', 'NODE', 'TARGET'],
  PodSandboxState: ['SANDBOX_READY', 'SANDBOX_NOTREADY'],
  ContainerState: ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'],
  ProfileType: ['RuntimeDefault', 'Unconfined', 'Localhost'],
};

const empty: MessageDef = {};
const byContainerId: MessageDef = { containerId: [1, 'string'] };
const bySandboxId: MessageDef = { podSandboxId: [1, 'string'] };
const streamUrl: MessageDef = { url: [1, 'string'] };

export const criMessages: Readonly<Record<string, MessageDef>> = {
  VersionRequest: { version: [1, 'string'] },
  VersionResponse: { version: [1, 'string'], runtimeName: [2, 'string'], runtimeVersion: [3, 'string'], runtimeApiVersion: [4, 'string'] },

  DNSConfig: { servers: [1, 'string', 'repeated'], searches: [2, 'string', 'repeated'], options: [3, 'string', 'repeated'] },
  PortMapping: { protocol: [1, 'Protocol'], containerPort: [2, 'int32'], hostPort: [3, 'int32'], hostIp: [4, 'string'] },
  Mount: { containerPath: [1, 'string'], hostPath: [2, 'string'], readonly: [3, 'bool'], selinuxRelabel: [4, 'bool'] },
  NamespaceOption: { network: [1, 'NamespaceMode'], pid: [2, 'NamespaceMode'], ipc: [3, 'NamespaceMode'], targetId: [4, 'string'] },
  Int64Value: { value: [1, 'int64'] },
  UInt64Value: { value: [1, 'uint64'] },
  LinuxSandboxSecurityContext: {
    namespaceOptions: [1, 'NamespaceOption'], runAsUser: [3, 'Int64Value'], readonlyRootfs: [4, 'bool'],
    supplementalGroups: [5, 'int64', 'repeated'], privileged: [6, 'bool'], runAsGroup: [8, 'Int64Value'],
  },
  LinuxPodSandboxConfig: { cgroupParent: [1, 'string'], securityContext: [2, 'LinuxSandboxSecurityContext'], sysctls: [3, 'map'] },
  PodSandboxMetadata: { name: [1, 'string'], uid: [2, 'string'], namespace: [3, 'string'], attempt: [4, 'uint32'] },
  PodSandboxConfig: {
    metadata: [1, 'PodSandboxMetadata'], hostname: [2, 'string'], logDirectory: [3, 'string'], dnsConfig: [4, 'DNSConfig'],
    portMappings: [5, 'PortMapping', 'repeated'], labels: [6, 'map'], annotations: [7, 'map'], linux: [8, 'LinuxPodSandboxConfig'],
  },
  RunPodSandboxRequest: { config: [1, 'PodSandboxConfig'], runtimeHandler: [2, 'string'] },
  RunPodSandboxResponse: bySandboxId,
  StopPodSandboxRequest: bySandboxId,
  StopPodSandboxResponse: empty,
  RemovePodSandboxRequest: bySandboxId,
  RemovePodSandboxResponse: empty,
  PodSandboxStatusRequest: { podSandboxId: [1, 'string'], verbose: [2, 'bool'] },
  PodIP: { ip: [1, 'string'] },
  PodSandboxNetworkStatus: { ip: [1, 'string'], additionalIps: [2, 'PodIP', 'repeated'] },
  PodSandboxStatus: {
    id: [1, 'string'], metadata: [2, 'PodSandboxMetadata'], state: [3, 'PodSandboxState'], createdAt: [4, 'int64'],
    network: [5, 'PodSandboxNetworkStatus'], labels: [7, 'map'], annotations: [8, 'map'], runtimeHandler: [9, 'string'],
  },
  PodSandboxStatusResponse: { status: [1, 'PodSandboxStatus'], info: [2, 'map'] },
  PodSandboxStateValue: { state: [1, 'PodSandboxState'] },
  PodSandboxFilter: { id: [1, 'string'], state: [2, 'PodSandboxStateValue'], labelSelector: [3, 'map'] },
  ListPodSandboxRequest: { filter: [1, 'PodSandboxFilter'] },
  PodSandbox: {
    id: [1, 'string'], metadata: [2, 'PodSandboxMetadata'], state: [3, 'PodSandboxState'], createdAt: [4, 'int64'],
    labels: [5, 'map'], annotations: [6, 'map'], runtimeHandler: [7, 'string'],
  },
  ListPodSandboxResponse: { items: [1, 'PodSandbox', 'repeated'] },

  ImageSpec: { image: [1, 'string'], annotations: [2, 'map'] },
  KeyValue: { key: [1, 'string'], value: [2, 'string'] },
  LinuxContainerResources: {
    cpuPeriod: [1, 'int64'], cpuQuota: [2, 'int64'], cpuShares: [3, 'int64'], memoryLimitInBytes: [4, 'int64'],
    oomScoreAdj: [5, 'int64'], cpusetCpus: [6, 'string'], cpusetMems: [7, 'string'],
  },
  Capability: { addCapabilities: [1, 'string', 'repeated'], dropCapabilities: [2, 'string', 'repeated'] },
  SecurityProfile: { profileType: [1, 'ProfileType'], localhostRef: [2, 'string'] },
  LinuxContainerSecurityContext: {
    capabilities: [1, 'Capability'], privileged: [2, 'bool'], namespaceOptions: [3, 'NamespaceOption'], runAsUser: [5, 'Int64Value'],
    runAsUsername: [6, 'string'], readonlyRootfs: [7, 'bool'], supplementalGroups: [8, 'int64', 'repeated'], noNewPrivs: [11, 'bool'],
    runAsGroup: [12, 'Int64Value'], seccomp: [15, 'SecurityProfile'],
  },
  LinuxContainerConfig: { resources: [1, 'LinuxContainerResources'], securityContext: [2, 'LinuxContainerSecurityContext'] },
  ContainerMetadata: { name: [1, 'string'], attempt: [2, 'uint32'] },
  ContainerConfig: {
    metadata: [1, 'ContainerMetadata'], image: [2, 'ImageSpec'], command: [3, 'string', 'repeated'], args: [4, 'string', 'repeated'],
    workingDir: [5, 'string'], envs: [6, 'KeyValue', 'repeated'], mounts: [7, 'Mount', 'repeated'], labels: [9, 'map'],
    annotations: [10, 'map'], logPath: [11, 'string'], stdin: [12, 'bool'], stdinOnce: [13, 'bool'], tty: [14, 'bool'],
    linux: [15, 'LinuxContainerConfig'],
  },
  CreateContainerRequest: { podSandboxId: [1, 'string'], config: [2, 'ContainerConfig'], sandboxConfig: [3, 'PodSandboxConfig'] },
  CreateContainerResponse: { containerId: [1, 'string'] },
  StartContainerRequest: byContainerId,
  StartContainerResponse: empty,
  StopContainerRequest: { containerId: [1, 'string'], timeout: [2, 'int64'] },
  StopContainerResponse: empty,
  RemoveContainerRequest: byContainerId,
  RemoveContainerResponse: empty,
  ContainerStateValue: { state: [1, 'ContainerState'] },
  ContainerFilter: { id: [1, 'string'], state: [2, 'ContainerStateValue'], podSandboxId: [3, 'string'], labelSelector: [4, 'map'] },
  ListContainersRequest: { filter: [1, 'ContainerFilter'] },
  Container: {
    id: [1, 'string'], podSandboxId: [2, 'string'], metadata: [3, 'ContainerMetadata'], image: [4, 'ImageSpec'], imageRef: [5, 'string'],
    state: [6, 'ContainerState'], createdAt: [7, 'int64'], labels: [8, 'map'], annotations: [9, 'map'],
  },
  ListContainersResponse: { containers: [1, 'Container', 'repeated'] },
  ContainerStatusRequest: { containerId: [1, 'string'], verbose: [2, 'bool'] },
  ContainerStatus: {
    id: [1, 'string'], metadata: [2, 'ContainerMetadata'], state: [3, 'ContainerState'], createdAt: [4, 'int64'], startedAt: [5, 'int64'],
    finishedAt: [6, 'int64'], exitCode: [7, 'int32'], image: [8, 'ImageSpec'], imageRef: [9, 'string'], reason: [10, 'string'],
    message: [11, 'string'], labels: [12, 'map'], annotations: [13, 'map'], mounts: [14, 'Mount', 'repeated'], logPath: [15, 'string'],
  },
  ContainerStatusResponse: { status: [1, 'ContainerStatus'], info: [2, 'map'] },

  ExecSyncRequest: { containerId: [1, 'string'], cmd: [2, 'string', 'repeated'], timeout: [3, 'int64'] },
  ExecSyncResponse: { stdout: [1, 'bytes'], stderr: [2, 'bytes'], exitCode: [3, 'int32'] },
  ExecRequest: {
    containerId: [1, 'string'], cmd: [2, 'string', 'repeated'], tty: [3, 'bool'], stdin: [4, 'bool'], stdout: [5, 'bool'], stderr: [6, 'bool'],
  },
  ExecResponse: streamUrl,
  AttachRequest: { containerId: [1, 'string'], stdin: [2, 'bool'], tty: [3, 'bool'], stdout: [4, 'bool'], stderr: [5, 'bool'] },
  AttachResponse: streamUrl,
  PortForwardRequest: { podSandboxId: [1, 'string'], port: [2, 'int32', 'repeated'] },
  PortForwardResponse: streamUrl,

  ImageFilter: { image: [1, 'ImageSpec'] },
  ListImagesRequest: { filter: [1, 'ImageFilter'] },
  Image: {
    id: [1, 'string'], repoTags: [2, 'string', 'repeated'], repoDigests: [3, 'string', 'repeated'], size: [4, 'uint64'], uid: [5, 'Int64Value'],
    username: [6, 'string'], spec: [7, 'ImageSpec'], pinned: [8, 'bool'],
  },
  ListImagesResponse: { images: [1, 'Image', 'repeated'] },
  ImageStatusRequest: { image: [1, 'ImageSpec'], verbose: [2, 'bool'] },
  ImageStatusResponse: { image: [1, 'Image'], info: [2, 'map'] },
  AuthConfig: {
    username: [1, 'string'], password: [2, 'string'], auth: [3, 'string'], serverAddress: [4, 'string'], identityToken: [5, 'string'],
    registryToken: [6, 'string'],
  },
  PullImageRequest: { image: [1, 'ImageSpec'], auth: [2, 'AuthConfig'], sandboxConfig: [3, 'PodSandboxConfig'] },
  PullImageResponse: { imageRef: [1, 'string'] },
  RemoveImageRequest: { image: [1, 'ImageSpec'] },
  RemoveImageResponse: empty,
  FilesystemIdentifier: { mountpoint: [1, 'string'] },
  FilesystemUsage: { timestamp: [1, 'int64'], fsId: [2, 'FilesystemIdentifier'], usedBytes: [3, 'UInt64Value'], inodesUsed: [4, 'UInt64Value'] },
  ImageFsInfoRequest: empty,
  ImageFsInfoResponse: { imageFilesystems: [1, 'FilesystemUsage', 'repeated'], containerFilesystems: [2, 'FilesystemUsage', 'repeated'] },

  RuntimeCondition: { type: [1, 'string'], status: [2, 'bool'], reason: [3, 'string'], message: [4, 'string'] },
  RuntimeStatus: { conditions: [1, 'RuntimeCondition', 'repeated'] },
  StatusRequest: { verbose: [1, 'bool'] },
  StatusResponse: { status: [1, 'RuntimeStatus'], info: [2, 'map'] },

  ContainerStatsRequest: byContainerId,
  ContainerStatsResponse: { stats: [1, 'ContainerStats'] },
  ContainerStatsFilter: { id: [1, 'string'], podSandboxId: [2, 'string'], labelSelector: [3, 'map'] },
  ListContainerStatsRequest: { filter: [1, 'ContainerStatsFilter'] },
  ListContainerStatsResponse: { stats: [1, 'ContainerStats', 'repeated'] },
  ContainerAttributes: { id: [1, 'string'], metadata: [2, 'ContainerMetadata'], labels: [3, 'map'], annotations: [4, 'map'] },
  CpuUsage: { timestamp: [1, 'int64'], usageCoreNanoSeconds: [2, 'UInt64Value'], usageNanoCores: [3, 'UInt64Value'] },
  MemoryUsage: {
    timestamp: [1, 'int64'], workingSetBytes: [2, 'UInt64Value'], availableBytes: [3, 'UInt64Value'], usageBytes: [4, 'UInt64Value'],
    rssBytes: [5, 'UInt64Value'], pageFaults: [6, 'UInt64Value'], majorPageFaults: [7, 'UInt64Value'],
  },
  ContainerStats: { attributes: [1, 'ContainerAttributes'], cpu: [2, 'CpuUsage'], memory: [3, 'MemoryUsage'], writableLayer: [4, 'FilesystemUsage'] },
};

/** The RPCs: method → service. Request and response messages are `<method>Request` / `<method>Response`. */
export const criServices = {
  RuntimeService: [
    'Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox', 'CreateContainer',
    'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers', 'ContainerStatus', 'ExecSync', 'Exec', 'Attach',
    'PortForward', 'ContainerStats', 'ListContainerStats', 'Status',
  ],
  ImageService: ['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo'],
} as const;
