// The pods' QoS cgroup tree on a real containerd and this host's real cgroupfs: a BestEffort pod's
// containers under <root>/besteffort/pod<uid> at cpu.shares 2 with besteffort's parent weighted by
// the node's allocatable CPU; Burstable pods under burstable, whose shares follow their requests as
// pods come and go; a Guaranteed pod directly under the root with its limits; the tree back after a
// "reboot" (every cgroup and container gone) with the cached pods in it; a pod's cgroup gone after
// the pod is deleted. Each agent gets its own root, as several test agents share this host.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCgroupMounts } from '../../../src/agent/kubelet/cgroupfs.ts';
import { parseMeminfo } from '../../../src/runtime/stats/node-stats.ts';
import { removeAgentCgroups, removeAllPods } from '../../runtime/cleanup.ts';
import { makePod, podJson, until } from './helpers.ts';
import { busyboxImage, startNode } from './node-harness.ts';
import type { TestNode } from './node-harness.ts';

const root = `/edgeos-${randomBytes(4).toString('hex')}/kubepods`;
const layout = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
const v1 = layout.version === 1;
const mountOf = (controller: string): string => (v1 ? layout.hierarchies.find((h) => h.controllers.includes(controller))!.mount : '/sys/fs/cgroup');
const cpuFile = v1 ? 'cpu.shares' : 'cpu.weight';
const shares = (path: string): number => Number(readFileSync(join(mountOf('cpu'), path, cpuFile), 'utf8'));
/** What cpu.shares reads as here: itself on v1, runc's conversion to cpu.weight on v2. */
const asRead = (s: number): number => (v1 ? s : 1 + Math.floor(((s - 2) * 9999) / 262142));
const memoryLimit = (path: string): number => Number(readFileSync(join(mountOf('memory'), path, v1 ? 'memory.limit_in_bytes' : 'memory.max'), 'utf8'));

let node: TestNode;

beforeAll(async () => {
  node = await startNode('qos', '10.231.44.0/24', 'eostest-kl4', { podCgroupRoot: root });
}, 120_000);

afterAll(async () => {
  await node?.teardown();
}, 120_000);

async function exec(cid: string, script: string): Promise<string> {
  const r = await node.rt.execSync(cid, ['sh', '-c', script], 20);
  if (r.exitCode !== 0) throw new Error(`exec ${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Runs the pod and returns its (first) container's id once it runs. */
async function run(pod: Pod): Promise<string> {
  await node.cache.put('Pod', podJson(pod));
  const s = await until(`${pod.metadata!.name} running`, () => {
    const st = node.sink.latest(pod.metadata!.uid!);
    return st?.containerStatuses?.[0]?.state?.running ? st : undefined;
  }, 90_000);
  return s.containerStatuses![0]!.containerID!.replace('containerd://', '');
}

/** The container's cgroup in the cpu hierarchy, as its own /proc/self/cgroup says (no cgroup namespace on v1). */
async function cgroupOf(cid: string): Promise<string> {
  const lines = (await exec(cid, 'cat /proc/self/cgroup')).split('\n');
  const line = v1 ? lines.find((l) => /^\d+:cpu(,cpuacct)?:/.test(l)) : lines.find((l) => l.startsWith('0::'));
  return line!.split(':').slice(2).join(':');
}

const sleeper = (name: string, resources?: NonNullable<Pod['spec']>['containers'][number]['resources']): Pod =>
  makePod(name, node.nodeName, { containers: [{ name: 'c', image: busyboxImage, command: ['sleep', '3600'], ...(resources ? { resources } : {}) }] });

describe('QoS cgroups on containerd', () => {
  let bestEffort: Pod;

  it('puts a BestEffort pod under besteffort/pod<uid> at shares 2, besteffort under a root weighted by allocatable', async () => {
    bestEffort = sleeper('be');
    const cid = await run(bestEffort);
    const uid = bestEffort.metadata!.uid!;
    expect(await cgroupOf(cid)).toBe(`${root}/besteffort/pod${uid}/${cid}`);
    expect(shares(`${root}/besteffort/pod${uid}/${cid}`)).toBe(asRead(2));
    expect(shares(`${root}/besteffort/pod${uid}`)).toBe(asRead(2));
    expect(shares(`${root}/besteffort`)).toBe(asRead(2));
    expect(shares(root)).toBe(asRead(availableParallelism() * 1024));
    const memTotal = parseMeminfo(readFileSync('/proc/meminfo', 'utf8')).total;
    expect(memoryLimit(root)).toBe(Math.floor((memTotal - 100 * 2 ** 20) / 4096) * 4096);
    // The sandbox (pause) is in the pod's cgroup too: it is the pod cgroup's other child.
    const children = (await import('node:fs')).readdirSync(join(mountOf('cpu'), root, 'besteffort', `pod${uid}`), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(children).toHaveLength(2);
    expect(children).toContain(cid);
  });

  it('weights Burstable pods by their requests, and the burstable cgroup by the sum as pods come and go', async () => {
    const a = sleeper('burst-a', { requests: { cpu: '250m' } });
    const b = sleeper('burst-b', { requests: { cpu: '500m', memory: '16Mi' }, limits: { cpu: '1', memory: '32Mi' } });
    const cidA = await run(a);
    expect(await cgroupOf(cidA)).toBe(`${root}/burstable/pod${a.metadata!.uid}/${cidA}`);
    expect(shares(`${root}/burstable/pod${a.metadata!.uid}`)).toBe(asRead(256));
    await until('burstable shares 256', () => shares(`${root}/burstable`) === asRead(256), 10_000);
    const cidB = await run(b);
    const podB = `${root}/burstable/pod${b.metadata!.uid}`;
    expect(await cgroupOf(cidB)).toBe(`${podB}/${cidB}`);
    expect(shares(podB)).toBe(asRead(512));
    // Every container declares both limits: the pod cgroup gets their sums.
    expect(memoryLimit(podB)).toBe(32 * 2 ** 20);
    if (v1) expect(readFileSync(join(mountOf('cpu'), podB, 'cpu.cfs_quota_us'), 'utf8')).toBe('100000\n');
    await until('burstable shares 768', () => shares(`${root}/burstable`) === asRead(768), 10_000);
    await node.cache.delete('Pod', 'default', 'burst-a');
    await until('burstable shares 512 after a pod left', () => shares(`${root}/burstable`) === asRead(512), 30_000);
    await node.cache.delete('Pod', 'default', 'burst-b');
    await until('burstable shares 2 with no Burstable pod', () => shares(`${root}/burstable`) === asRead(2), 30_000);
  });

  it('puts a Guaranteed pod directly under the root with its limits', async () => {
    const g = sleeper('guaranteed', { limits: { cpu: '300m', memory: '24Mi' } });
    const cid = await run(g);
    const pod = `${root}/pod${g.metadata!.uid}`;
    expect(await cgroupOf(cid)).toBe(`${pod}/${cid}`);
    expect(shares(pod)).toBe(asRead(307));
    expect(memoryLimit(pod)).toBe(24 * 2 ** 20);
    if (v1) expect(readFileSync(join(mountOf('cpu'), pod, 'cpu.cfs_quota_us'), 'utf8')).toBe('30000\n');
    // Guaranteed pods count in no QoS cgroup's shares.
    expect(shares(`${root}/burstable`)).toBe(asRead(2));
    await node.cache.delete('Pod', 'default', 'guaranteed');
    await until('Guaranteed pod cgroup removed', () => !existsSync(join(mountOf('cpu'), pod)), 30_000);
  });

  it('recreates the tree after a reboot that lost every cgroup, and the cached pods in it', async () => {
    const uid = bestEffort.metadata!.uid!;
    await node.stopKubelet();
    // A reboot: every container gone, and with them every cgroup of this tree.
    await removeAllPods(node.config.endpoint);
    removeAgentCgroups(node.dir);
    for (const h of layout.hierarchies) expect(existsSync(h.mount + root)).toBe(false);
    await node.startKubelet({ podCgroupRoot: root });
    expect(shares(`${root}/besteffort`)).toBe(asRead(2));
    expect(shares(root)).toBe(asRead(availableParallelism() * 1024));
    const s = await until('BestEffort pod running again', () => {
      const st = node.sink.latest(uid);
      return st?.containerStatuses?.[0]?.state?.running ? st : undefined;
    }, 90_000);
    const cid = s.containerStatuses![0]!.containerID!.replace('containerd://', '');
    expect(await cgroupOf(cid)).toBe(`${root}/besteffort/pod${uid}/${cid}`);
    expect(shares(`${root}/besteffort/pod${uid}`)).toBe(asRead(2));
  });

  it('removes the pod cgroup from every hierarchy once the pod is deleted', async () => {
    const uid = bestEffort.metadata!.uid!;
    await node.cache.delete('Pod', 'default', 'be');
    await until('pod cgroup removed', () => layout.hierarchies.every((h) => !existsSync(`${h.mount}${root}/besteffort/pod${uid}`)), 60_000);
    // The QoS tree itself stays while the agent runs.
    expect(existsSync(join(mountOf('cpu'), root, 'besteffort'))).toBe(true);
    expect(readFileSync(join(node.rootDir, 'cgroup-root'), 'utf8')).toBe(`${root}\n`);
  });

  it('removes a pod cgroup left behind without a pod at the next housekeeping', async () => {
    const orphan = `${root}/besteffort/pod${'0'.repeat(8)}-0000-0000-0000-000000000000`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(mountOf('cpu'), orphan));
    await node.stopKubelet();
    await node.startKubelet({ podCgroupRoot: root });
    expect(existsSync(join(mountOf('cpu'), orphan))).toBe(false);
  });
});
