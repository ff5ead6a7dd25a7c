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
import { parseCgroupMounts, settingFiles } from '../../../src/agent/kubelet/cgroupfs.ts';
import { burstableShares, kubepodsPath, podCgroupPath, podCgroupSettings } from '../../../src/agent/kubelet/qos-cgroups.ts';
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

describe('QoS cgroup arithmetic and names', () => {
  const pod = (containers: object[], initContainers: object[] = []): Pod =>
    ({ metadata: { uid: 'u1' }, spec: { containers, initContainers } }) as unknown as Pod;

  it('reads the hierarchies of a v1 host (with the hybrid cgroup2 mount) and of a v2 host', () => {
    const v1Host = [
      '35 26 0:30 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '36 26 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
      '43 26 0:38 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '44 26 0:39 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '45 26 0:40 / /sys/fs/cgroup/my\\040dir rw - cgroup cgroup rw,memory,release_agent=/x',
    ].join('\n');
    expect(parseCgroupMounts(v1Host)).toEqual({
      version: 1,
      hierarchies: [
        { mount: '/sys/fs/cgroup/cpu', version: 1, controllers: ['cpu'] },
        { mount: '/sys/fs/cgroup/cpu,cpuacct', version: 1, controllers: ['cpu', 'cpuacct'] },
        { mount: '/sys/fs/cgroup/systemd', version: 1, controllers: ['name=systemd'] },
        { mount: '/sys/fs/cgroup/unified', version: 2, controllers: [] },
        { mount: '/sys/fs/cgroup/my dir', version: 1, controllers: ['memory'] },
      ],
    });
    expect(parseCgroupMounts('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n')).toEqual({
      version: 2, hierarchies: [{ mount: '/sys/fs/cgroup', version: 2, controllers: [] }],
    });
  });

  it('writes v1 settings as such and converts them for v2 as runc does', () => {
    const s = { cpuShares: 2, cpuQuotaUs: 30_000, cpuPeriodUs: 100_000, memoryLimitBytes: 1024 };
    expect(settingFiles(1, s).map((f) => `${f.controller}/${f.file}=${f.value}`)).toEqual([
      'cpu/cpu.shares=2', 'cpu/cpu.cfs_period_us=100000', 'cpu/cpu.cfs_quota_us=30000', 'memory/memory.limit_in_bytes=1024',
    ]);
    expect(settingFiles(2, s).map((f) => `${f.file}=${f.value}`)).toEqual(['cpu.weight=1', 'cpu.max=30000 100000', 'memory.max=1024']);
    expect(settingFiles(2, { cpuShares: 1024 })[0]!.value).toBe('39');
    expect(settingFiles(2, { cpuShares: 262_144 })[0]!.value).toBe('10000');
  });

  it('names the tree after the data dir unless --cgroup-root is given', () => {
    expect(kubepodsPath('/var/lib/edgeos', undefined)).toBe('/kubepods');
    expect(kubepodsPath('/tmp/a', undefined)).toMatch(/^\/edgeos-[0-9a-f]{8}\/kubepods$/);
    expect(kubepodsPath('/tmp/a', undefined)).not.toBe(kubepodsPath('/tmp/b', undefined));
    expect(kubepodsPath('/tmp/a', '/edge')).toBe('/edge/kubepods');
    expect(kubepodsPath('/tmp/a', '/')).toBe('/kubepods');
  });

  it("gives pods kubelet's ResourceConfigForPod and the burstable cgroup the requests' sum", () => {
    expect(podCgroupSettings(pod([{ name: 'a' }]))).toEqual({ cpuShares: 2 });
    expect(podCgroupPath('/kubepods', pod([{ name: 'a' }]))).toBe('/kubepods/besteffort/podu1');
    // An init container asking more than the app containers together sets the pod's request.
    const burst = pod([{ resources: { requests: { cpu: '100m' } } }, { resources: { requests: { cpu: '100m' } } }], [{ resources: { requests: { cpu: '500m' } } }]);
    expect(podCgroupSettings(burst)).toEqual({ cpuShares: 512 });
    expect(podCgroupPath('/kubepods', burst)).toBe('/kubepods/burstable/podu1');
    // Only one container declares a CPU limit: no pod-level quota.
    expect(podCgroupSettings(pod([{ resources: { limits: { cpu: '1' }, requests: { cpu: '200m' } } }, { resources: { requests: { cpu: '100m' } } }]))).toEqual({ cpuShares: 307 });
    const guaranteed = pod([{ resources: { limits: { cpu: '250m', memory: '10Mi' } } }, { resources: { limits: { cpu: '250m', memory: '6Mi' } } }]);
    expect(podCgroupSettings(guaranteed)).toEqual({ cpuShares: 512, cpuPeriodUs: 100_000, cpuQuotaUs: 50_000, memoryLimitBytes: 16 * 2 ** 20 });
    expect(podCgroupPath('/kubepods', guaranteed)).toBe('/kubepods/podu1');
    expect(burstableShares([burst, guaranteed, pod([{ name: 'be' }])])).toBe(512);
    expect(burstableShares([])).toBe(2);
  });
});

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
    // The /edgeos-<hex> parent the agent chose weighs as much (at 1024 it would weigh all pods as one host process).
    expect(shares(root.slice(0, -'/kubepods'.length))).toBe(asRead(availableParallelism() * 1024));
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
