// The pods' cgroup tree (kubelet's qos_container_manager + pod_container_manager, cgroupfs driver):
//
//   <root>                 cpu.shares from the node's allocatable CPU, memory limit = allocatable memory
//   <root>/pod<uid>        Guaranteed pods
//   <root>/burstable       cpu.shares = the cpu requests of the Burstable pods
//   <root>/burstable/pod<uid>
//   <root>/besteffort      cpu.shares 2
//   <root>/besteffort/pod<uid>
//
// Each pod's sandbox gets its pod cgroup as linux.cgroup_parent, so containerd puts the sandbox and
// every container of the pod below it. Without this tree, a BestEffort container (cpu.shares 2)
// sits beside the host's processes, each of which weighs 512 times more, and starves under load.
// docs/kubelet.md, "QoS cgroups".
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import type { Logger } from '../../common/log.ts';
import { DEFAULT_DATA_DIR } from '../../common/sea.ts';
import { ensureCgroup, listChildCgroups, readCgroupLayout, removeCgroup } from './cgroupfs.ts';
import type { CgroupLayout, CgroupSettings } from './cgroupfs.ts';
import { bytes, milliCpu } from './quantity.ts';
import { qosClass } from './resources.ts';
import { dataDirSuffix } from '../../common/data-dir-names.ts';

const minShares = 2;
/** The cgroup root the agent picks for a data dir other than the default (kubepodsPath). */
const ownParent = /^\/edgeos-[0-9a-f]{8}$/;
const maxShares = 262_144;
const periodUs = 100_000;
const minQuotaUs = 1000;

/** kubelet's MilliCPUToShares. */
export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return minShares;
  return Math.min(maxShares, Math.max(minShares, Math.floor((milli * 1024) / 1000)));
}

type Resource = 'cpu' | 'memory';
const read = (q: string | undefined, r: Resource): number => (r === 'cpu' ? milliCpu(q) : bytes(q));
const request = (c: Container, r: Resource): number => read(c.resources?.requests?.[r] ?? c.resources?.limits?.[r], r);
const limit = (c: Container, r: Resource): number => read(c.resources?.limits?.[r], r);

/** resource.PodRequests/PodLimits: the app containers' sum, or the largest init container's if larger. */
function podTotal(pod: Pod, r: Resource, of: (c: Container, r: Resource) => number): number {
  const sum = (pod.spec?.containers ?? []).reduce((a, c) => a + of(c, r), 0);
  return Math.max(sum, ...(pod.spec?.initContainers ?? []).map((c) => of(c, r)));
}

/**
 * kubelet's ResourceConfigForPod: cpu.shares from the pod's cpu request (2 for BestEffort); a CPU
 * quota and a memory limit when every container declares that limit (always for Guaranteed).
 */
export function podCgroupSettings(pod: Pod): CgroupSettings {
  const qos = qosClass(pod);
  if (qos === 'BestEffort') return { cpuShares: minShares };
  const containers = pod.spec?.containers ?? [];
  const out: CgroupSettings = { cpuShares: milliCpuToShares(podTotal(pod, 'cpu', request)) };
  if (containers.every((c) => limit(c, 'cpu') > 0)) {
    out.cpuPeriodUs = periodUs;
    out.cpuQuotaUs = Math.max(minQuotaUs, Math.floor((podTotal(pod, 'cpu', limit) * periodUs) / 1000));
  }
  if (containers.every((c) => limit(c, 'memory') > 0)) out.memoryLimitBytes = podTotal(pod, 'memory', limit);
  return out;
}

/** The cpu.shares of the burstable cgroup: the cpu requests of the active Burstable pods. */
export function burstableShares(pods: Iterable<Pod>): number {
  let milli = 0;
  for (const p of pods) if (qosClass(p) === 'Burstable') milli += podTotal(p, 'cpu', request);
  return milliCpuToShares(milli);
}

/** The cgroup below `root` (the kubepods cgroup) that holds the pod: kubelet's cgroupfs names. */
export function podCgroupPath(root: string, pod: Pod): string {
  const qos = qosClass(pod);
  const parent = qos === 'Guaranteed' ? root : posix.join(root, qos === 'Burstable' ? 'burstable' : 'besteffort');
  return posix.join(parent, `pod${pod.metadata?.uid ?? ''}`);
}

/**
 * The kubepods cgroup of an agent: `<cgroupRoot>/kubepods`, as kubelet's `--cgroup-root`. Unless
 * given, the cgroup root is `/` for the default data dir — `/kubepods`, where tools that read a
 * process's cgroup expect pods — and `/edgeos-<8 hex>` (the 8 hex of the data dir's bridge) for
 * another: two agents on one host never share a QoS tree.
 */
export function kubepodsPath(dataDir: string, cgroupRoot: string | undefined): string {
  const root = cgroupRoot ?? (dataDir === DEFAULT_DATA_DIR ? '/' : `/edgeos-${dataDirSuffix(dataDir)}`);
  return posix.join('/', root, 'kubepods');
}

export interface QosCgroupsOptions {
  /** The kubepods cgroup (`/kubepods`). */
  root: string;
  /** Where the root is recorded for the uninstaller and a later agent with another root. */
  recordFile: string;
  log: Logger;
}

/**
 * The QoS tree of one kubelet. start() (re)creates the tree — at every agent start, before any
 * sandbox: a reboot loses every cgroup — and the pod workers create a pod's cgroup before its
 * sandbox and remove it after the sandbox is removed. Settings are written when they change;
 * nothing stays resident but the last burstable shares and the set of pods set up.
 */
export class QosCgroups {
  readonly root: string;
  private readonly o: QosCgroupsOptions;
  private layout: CgroupLayout | undefined;
  private readonly ensured = new Set<string>();
  private lastBurstable = -1;
  private burstableWrite: Promise<void> = Promise.resolve();

  constructor(o: QosCgroupsOptions) {
    this.o = o;
    this.root = o.root;
  }

  get version(): 1 | 2 | undefined {
    return this.layout?.version;
  }

  async start(allocatable: { cpuMilli: number; memoryBytes: number }): Promise<void> {
    const layout = await readCgroupLayout();
    const previous = (await readFile(this.o.recordFile, 'utf8').catch(() => '')).trim();
    await mkdir(dirname(this.o.recordFile), { recursive: true });
    writeFileAtomic(this.o.recordFile, this.root + '\n', 0o644);
    if (previous && previous !== this.root) {
      // The tree of an earlier --cgroup-root: its pods are recreated in the new one.
      await removeQosTree(layout, previous).catch(() => false);
    }
    const cpuShares = milliCpuToShares(allocatable.cpuMilli);
    // The /edgeos-<hex> parent the agent chose itself weighs what kubepods does: at 1024 it would
    // weigh the pods together as one host process. A --cgroup-root given is the admin's to weight.
    const parent = posix.dirname(this.root);
    if (ownParent.test(parent)) await ensureCgroup(layout, parent, { cpuShares });
    await ensureCgroup(layout, this.root, {
      cpuShares,
      ...(allocatable.memoryBytes > 0 ? { memoryLimitBytes: allocatable.memoryBytes } : {}),
    });
    await ensureCgroup(layout, posix.join(this.root, 'burstable'), { cpuShares: minShares });
    await ensureCgroup(layout, posix.join(this.root, 'besteffort'), { cpuShares: minShares });
    this.lastBurstable = minShares;
    this.layout = layout;
    this.o.log.info({ cgroup: this.root, version: layout.version }, 'QoS cgroups ready');
  }

  /** Creates (once per agent run) the pod's cgroup with its settings; returns it for the sandbox's cgroup_parent. */
  async ensurePod(pod: Pod): Promise<string | undefined> {
    const uid = pod.metadata?.uid;
    if (!this.layout || !uid) return undefined;
    const path = podCgroupPath(this.root, pod);
    if (!this.ensured.has(uid)) {
      await ensureCgroup(this.layout, path, podCgroupSettings(pod));
      this.ensured.add(uid);
    }
    return path;
  }

  /** Removes the pod's cgroup (after its sandboxes); false if a process still holds it. */
  async removePod(uid: string): Promise<boolean> {
    if (!this.layout) return true;
    this.ensured.delete(uid);
    const name = `pod${uid}`;
    const all = await Promise.all(['', 'burstable', 'besteffort'].map((q) => removeCgroup(this.layout!, posix.join(this.root, q, name))));
    return all.every(Boolean);
  }

  /** Writes the burstable cgroup's shares from the active pods when they changed (UpdateQOSCgroups). */
  updateBurstable(active: Iterable<Pod>): Promise<void> {
    const shares = burstableShares(active);
    this.burstableWrite = this.burstableWrite.then(async () => {
      if (!this.layout || shares === this.lastBurstable) return;
      await ensureCgroup(this.layout, posix.join(this.root, 'burstable'), { cpuShares: shares });
      this.lastBurstable = shares;
    }).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'burstable cgroup update failed'));
    return this.burstableWrite;
  }

  /** Pod cgroups of pods the kubelet no longer knows (a crash between sandbox and cgroup removal). */
  async removeOrphans(known: ReadonlySet<string>): Promise<void> {
    if (!this.layout) return;
    for (const q of ['', 'burstable', 'besteffort']) {
      for (const name of await listChildCgroups(this.layout, posix.join(this.root, q))) {
        if (!name.startsWith('pod') || known.has(name.slice(3))) continue;
        if (await this.removePod(name.slice(3))) this.o.log.info({ uid: name.slice(3) }, 'removed the cgroup of a pod that is gone');
      }
    }
  }
}

/**
 * Removes a QoS tree (rmdir only: cgroups that still hold processes stay), and its parent when it
 * is one of the `/edgeos-<hex>` roots the agent chose itself. Used by the uninstaller's
 * counterpart in tests and when --cgroup-root changed.
 */
export async function removeQosTree(layout: CgroupLayout, root: string): Promise<boolean> {
  const removed = await removeCgroup(layout, root);
  const parent = posix.dirname(root);
  if (removed && ownParent.test(parent)) return removeCgroup(layout, parent);
  return removed;
}
