import { availableParallelism } from 'node:os';
import { statfs } from 'node:fs/promises';
import type { NodeCondition, NodeStatus } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { ContainerRuntime, Image, RuntimeStatus } from '../../runtime/types.ts';
import type { KubeJson, StatusSink } from '../types.ts';
import { hostReader } from './host-reading.ts';
import { kubeletVersion, readMachineInfo } from './node-info.ts';
import type { MachineInfo } from './node-info.ts';
import { rfc3339 } from './pod-status.ts';

/** kubelet's default hard eviction thresholds, which allocatable subtracts and pressure compares to. */
const evictionMemoryBytes = 100 * 2 ** 20;
const evictionNodefsFraction = 0.1;
const maxPods = 110;
const maxImages = 50;

export interface NodeSample {
  machine: MachineInfo;
  memoryAvailableBytes: number;
  fsCapacityBytes: number;
  fsAvailableBytes: number;
  pidsInUse: number;
  pidMax: number;
  runtime: RuntimeStatus | undefined;
  runtimeError: string | undefined;
  runtimeVersion: string;
  images: Image[];
}

const ki = (bytesN: number): string => `${Math.floor(bytesN / 1024)}Ki`;

function cond(prev: NodeStatus | undefined, type: string, ok: boolean, reason: string, message: string, now: number): NodeCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.conditions?.find((c) => c.type === type);
  const since = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now);
  return { type, status, reason, message, lastHeartbeatTime: since, lastTransitionTime: since };
}

/**
 * The Node's status as the kubelet reports it (pkg/kubelet/nodestatus): addresses, capacity and
 * allocatable (capacity minus the default hard-eviction thresholds), nodeInfo, conditions
 * (MemoryPressure/DiskPressure/PIDPressure from those thresholds, Ready from the runtime's
 * RuntimeReady and NetworkReady), and the 50 largest images. Heartbeat times only move with a
 * transition: the link's Lease is the heartbeat, so an unchanged status is not resent.
 */
export function computeNodeStatus(s: NodeSample, prev: NodeStatus | undefined, now: number): NodeStatus {
  const m = s.machine;
  const memPressure = s.memoryAvailableBytes < evictionMemoryBytes;
  const diskPressure = s.fsCapacityBytes > 0 && s.fsAvailableBytes < s.fsCapacityBytes * evictionNodefsFraction;
  const pidPressure = s.pidMax > 0 && s.pidsInUse > s.pidMax * 0.9;
  const failing = (s.runtime?.conditions ?? []).filter((c) => (c.type === 'RuntimeReady' || c.type === 'NetworkReady') && !c.status);
  const ready = s.runtime !== undefined && failing.length === 0;
  const notReadyMsg = s.runtimeError ? `container runtime is down: ${s.runtimeError}`
    : failing.map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`).join('; ');
  return {
    addresses: [{ type: 'InternalIP', address: m.internalIP }, { type: 'Hostname', address: m.hostname }],
    capacity: {
      cpu: String(m.cpuCores), memory: ki(m.memoryBytes), pods: String(maxPods), 'ephemeral-storage': ki(s.fsCapacityBytes),
    },
    allocatable: {
      cpu: String(m.cpuCores),
      memory: ki(Math.max(0, m.memoryBytes - evictionMemoryBytes)),
      pods: String(maxPods),
      'ephemeral-storage': String(Math.floor(s.fsCapacityBytes * (1 - evictionNodefsFraction))),
    },
    conditions: [
      cond(prev, 'MemoryPressure', memPressure, memPressure ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory',
        memPressure ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available', now),
      cond(prev, 'DiskPressure', diskPressure, diskPressure ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure',
        diskPressure ? 'kubelet has disk pressure' : 'kubelet has no disk pressure', now),
      cond(prev, 'PIDPressure', pidPressure, pidPressure ? 'KubeletHasInsufficientPID' : 'KubeletHasSufficientPID',
        pidPressure ? 'kubelet has insufficient PID available' : 'kubelet has sufficient PID available', now),
      cond(prev, 'Ready', ready, ready ? 'KubeletReady' : 'KubeletNotReady', ready ? 'kubelet is posting ready status' : notReadyMsg, now),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.systemUUID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: s.runtimeVersion ? `containerd://${s.runtimeVersion}` : '',
      kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: m.architecture,
    },
    images: [...s.images].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, maxImages)
      .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.sizeBytes })),
  };
}

export interface NodeStatusOptions {
  runtime: ContainerRuntime;
  sink: StatusSink;
  log: Logger;
  /** Filesystem whose capacity is ephemeral-storage (the agent's data dir). */
  rootDir: string;
  now: () => number;
  intervalMs?: number;
}

/** Samples the machine and the runtime every 10 s (kubelet's nodeStatusUpdateFrequency) and reports changes. */
export class NodeStatusReporter {
  private readonly o: NodeStatusOptions;
  private machine: MachineInfo | undefined;
  private last: NodeStatus | undefined;
  private lastJson = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(o: NodeStatusOptions) {
    this.o = o;
  }

  /** The node's facts for pods: InternalIP, allocatable, memory capacity (valid after start()). */
  facts(): { hostIP: string; allocatable: { cpuMilli: number; memoryBytes: number; ephemeralBytes: number }; memoryCapacityBytes: number } {
    const m = this.machine;
    const eph = Number(this.last?.allocatable?.['ephemeral-storage'] ?? 0);
    return {
      hostIP: m?.internalIP ?? '',
      allocatable: { cpuMilli: (m?.cpuCores ?? 1) * 1000, memoryBytes: Math.max(0, (m?.memoryBytes ?? 0) - evictionMemoryBytes), ephemeralBytes: eph },
      memoryCapacityBytes: m?.memoryBytes ?? 0,
    };
  }

  async start(): Promise<void> {
    const host = await hostReader.read();
    this.machine = await readMachineInfo(availableParallelism(), host.memoryTotalBytes);
    await this.tick();
    const loop = (): void => {
      this.timer = setTimeout(() => { void this.tick().finally(() => { if (this.timer) loop(); }); }, this.o.intervalMs ?? 10_000);
    };
    loop();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One sample and report (if changed); returns the status. */
  async tick(): Promise<NodeStatus | undefined> {
    try {
      const s = await this.sample();
      const status = computeNodeStatus(s, this.last, this.o.now());
      const json = JSON.stringify(status);
      if (json !== this.lastJson) {
        this.lastJson = json;
        this.last = status;
        this.o.sink.nodeStatus(status as KubeJson);
      }
      return status;
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, 'node status sample failed');
      return undefined;
    }
  }

  private async sample(): Promise<NodeSample> {
    const machine = this.machine!;
    const host = await hostReader.read();
    const fs = await statfs(this.o.rootDir);
    let runtime: RuntimeStatus | undefined;
    let runtimeError: string | undefined;
    let runtimeVersion = '';
    let images: Image[] = [];
    try {
      [runtime, runtimeVersion, images] = await Promise.all([
        this.o.runtime.status(), this.o.runtime.version().then((v) => v.runtimeVersion), this.o.runtime.listImages(),
      ]);
    } catch (err) {
      runtimeError = errorMessage(err);
    }
    return {
      machine, memoryAvailableBytes: host.memoryAvailableBytes, fsCapacityBytes: fs.blocks * fs.bsize, fsAvailableBytes: fs.bavail * fs.bsize,
      pidsInUse: host.pidsInUse, pidMax: host.pidMax, runtime, runtimeError, runtimeVersion, images,
    };
  }
}
