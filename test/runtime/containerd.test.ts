// The CRI runtime against a real private containerd: pods, containers, exec, logs, stats,
// networking (pod IP and hostPort), resource limits in the cgroup, containerd restarts, errors.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageReferenceError, ImagePullError, RuntimeNotFoundError } from '../../src/runtime/index.ts';
import type { LogEntry, PodSandboxConfig } from '../../src/runtime/index.ts';
import { silentLogger } from '../../src/common/log.ts';
import { ImageGc } from '../../src/runtime/images/image-gc.ts';
import WebSocket from 'ws';
import { createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { busyboxArchive } from '../fixtures/images/busybox-image.ts';
import { describeRuntimeConformance } from './conformance.ts';
import { busyboxImage, startTestRuntime, waitFor } from './harness.ts';
import type { TestRuntime } from './harness.ts';

let t: TestRuntime;
// skopeo (Debian, installed by scripts/setup.sh --test) makes the OCI-layout archive; without it the
// import test covers docker-archives only.
const hasSkopeo = existsSync('/usr/bin/skopeo');
const hostPort = 39180 + (process.pid % 500);

beforeAll(async () => {
  t = await startTestRuntime('cd', { podCidr: '10.231.7.0/24', cniBridge: 'eostest-cd0' });
}, 120_000);

afterAll(async () => {
  await t?.teardown();
}, 120_000);

let podSeq = 0;
function sandboxConfig(extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  podSeq++;
  return { metadata: { name: `pod-${podSeq}`, uid: `uid-${process.pid}-${podSeq}`, namespace: 'test', attempt: 0 }, ...extra };
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describeRuntimeConformance('CRI over containerd', () => t.rt, busyboxImage);

describe('private containerd', () => {
  it('is ready with its own config, CNI network and the built-in pause image', async () => {
    const v = await t.rt.version();
    expect(v.runtimeName).toBe('containerd');
    expect(v.runtimeApiVersion).toBe('v1');
    const st = await t.rt.status();
    expect(st.conditions.find((c) => c.type === 'RuntimeReady')?.status).toBe(true);
    expect(st.conditions.find((c) => c.type === 'NetworkReady')?.status).toBe(true);
    const toml = readFileSync(t.config.containerd!.configFile, 'utf8');
    expect(toml).toContain(`root = "${t.config.containerd!.root}"`);
    expect(toml).toContain('sandbox_image = "edgeos.local/pause:1"');
    const conflist = JSON.parse(readFileSync(`${t.config.cni.confDir}/10-edgeos.conflist`, 'utf8'));
    expect(conflist.plugins[0].bridge).toBe('eostest-cd0');
    expect(conflist.plugins[0].ipam.ranges[0][0].subnet).toBe('10.231.7.0/24');
    expect(await t.rt.imageStatus('edgeos.local/pause:1')).toBeDefined();
    expect(t.logs.some((l) => l.msg === 'imported image archive' && (l.images as string[]).includes(busyboxImage))).toBe(true);
    // The Go runtime setting the supervisor adds (src/runtime/containerd/supervisor.ts).
    const environ = readFileSync(`/proc/${t.rt.containerdPid()}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`GOGC=${process.env.GOGC ?? '25'}`);
  });

  it('runs a pod: command/args/env, pod IP, hostPort, exec, stop and remove', async () => {
    const sb = sandboxConfig({ portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort }] });
    const sid = await t.rt.runPodSandbox(sb);
    const cid = await t.rt.createContainer(sid, {
      name: 'web',
      image: busyboxImage,
      command: ['sh', '-c'],
      args: ['mkdir -p /www && echo "hello $GREETING" > /www/index.html && exec httpd -f -p 8080 -h /www'],
      env: { GREETING: 'from-edgeos' },
    }, sb);
    await t.rt.startContainer(cid);
    const status = await t.rt.containerStatus(cid);
    expect(status.state).toBe('running');
    expect(status.name).toBe('web');
    const pod = await t.rt.podSandboxStatus(sid);
    expect(pod.state).toBe('ready');
    expect(pod.ip).toMatch(/^10\.231\.7\.\d+$/);

    expect(await waitFor('pod IP answers', () => httpGet(`http://${pod.ip}:8080/`))).toBe('hello from-edgeos\n');
    expect(await waitFor('hostPort answers', () => httpGet(`http://127.0.0.1:${hostPort}/`))).toBe('hello from-edgeos\n');

    const env = await t.rt.execSync(cid, ['sh', '-c', 'echo "$GREETING $FROM_IMAGE"; echo oops >&2; exit 3'], 30);
    expect(env.stdout.toString()).toBe('from-edgeos yes\n');
    expect(env.stderr.toString()).toBe('oops\n');
    expect(env.exitCode).toBe(3);

    expect(await t.rt.exec({ containerId: cid, cmd: ['sh'], stdin: true })).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\//);
    expect(await t.rt.attach({ containerId: cid, stdout: true })).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attach\//);
    expect(await t.rt.portForward(sid, [8080])).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portforward\//);

    expect((await t.rt.listContainers({ podSandboxId: sid })).map((c) => c.id)).toEqual([cid]);
    expect((await t.rt.listPodSandboxes({ id: sid }))[0]?.metadata.name).toBe(sb.metadata.name);

    const started = Date.now();
    await t.rt.stopPodSandbox(sid);
    expect((await t.rt.containerStatus(cid)).state).toBe('exited');
    await t.rt.removePodSandbox(sid);
    // The pause process must die at once, not after a grace period.
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(t.rt.podSandboxStatus(sid)).rejects.toBeInstanceOf(RuntimeNotFoundError);
  });

  it('applies cpu and memory limits to the container cgroup', async () => {
    const sb = sandboxConfig();
    const sid = await t.rt.runPodSandbox(sb);
    const cid = await t.rt.createContainer(sid, {
      name: 'limited',
      image: busyboxImage,
      resources: { memoryLimitBytes: 48 * 1024 * 1024, cpuPeriod: 100_000, cpuQuota: 25_000, cpuShares: 256 },
    }, sb);
    await t.rt.startContainer(cid);
    const read = async (file: string): Promise<string> => (await t.rt.execSync(cid, ['cat', file], 30)).stdout.toString().trim();
    expect(await read('/sys/fs/cgroup/memory/memory.limit_in_bytes')).toBe(String(48 * 1024 * 1024));
    expect(await read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')).toBe('25000');
    expect(await read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')).toBe('100000');
    expect(await read('/sys/fs/cgroup/cpu/cpu.shares')).toBe('256');

    const stats = await waitFor('container stats', async () => {
      const s = (await t.rt.containerStats({ containerId: cid }))[0];
      return s && s.memoryWorkingSetBytes > 0 ? s : undefined;
    });
    expect(stats.podSandboxId).toBe(sid);
    expect(stats.name).toBe('limited');
    expect(stats.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);
    const node = await t.rt.nodeStats();
    expect(node.memoryTotalBytes).toBeGreaterThan(node.memoryWorkingSetBytes);
    expect(node.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);
    await t.rt.stopPodSandbox(sid);
    await t.rt.removePodSandbox(sid);
  });

  it('writes CRI-format logs and reads them with tail, since, stream, follow and previous', async () => {
    const sb = sandboxConfig();
    const sid = await t.rt.runPodSandbox(sb);
    const first = await t.rt.createContainer(sid, {
      name: 'talker', image: busyboxImage, command: ['sh', '-c', 'echo one; echo two >&2; echo three'],
    }, sb);
    await t.rt.startContainer(first);
    const done = await waitFor('first instance exits', async () => {
      const s = await t.rt.containerStatus(first);
      return s.state === 'exited' ? s : undefined;
    });
    expect(done.exitCode).toBe(0);
    expect(done.reason).toBe('Completed');
    expect(done.logPath).toBe(`${t.config.podLogsDir}/test_${sb.metadata.name}_${sb.metadata.uid}/talker/0.log`);
    const raw = readFileSync(done.logPath, 'utf8').trim().split('\n');
    expect(raw).toHaveLength(3);
    for (const line of raw) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (stdout|stderr) F .*$/);

    const all = await collect(t.rt.readLogs(first, {}));
    expect(all.map((e) => e.content).sort()).toEqual(['one\n', 'three\n', 'two\n']);
    expect((await collect(t.rt.readLogs(first, { stream: 'stderr' }))).map((e) => e.content)).toEqual(['two\n']);
    expect(await collect(t.rt.readLogs(first, { tailLines: 1 }))).toEqual([all[2]]);
    expect(await collect(t.rt.readLogs(first, { sinceMs: Date.now() + 60_000 }))).toEqual([]);

    // A restart: attempt 1 follows the log while it is written, and attempt 0 becomes "previous".
    const second = await t.rt.createContainer(sid, {
      name: 'talker', attempt: 1, image: busyboxImage,
      command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done'],
    }, sb);
    await t.rt.startContainer(second);
    const followed = await collect(t.rt.readLogs(second, { follow: true }));
    expect(followed.map((e) => e.content)).toEqual(['tick 1\n', 'tick 2\n', 'tick 3\n', 'tick 4\n', 'tick 5\n']);
    const previous = await collect(t.rt.readLogs(second, { previous: true }));
    expect(previous.map((e) => e.content).sort()).toEqual(['one\n', 'three\n', 'two\n']);
    await expect(collect(t.rt.readLogs(first, { previous: true }))).rejects.toBeInstanceOf(RuntimeNotFoundError);
    await t.rt.stopPodSandbox(sid);
    await t.rt.removePodSandbox(sid);
  });

  it('reports a missing image and bad references with clear errors', async () => {
    const sb = sandboxConfig();
    const sid = await t.rt.runPodSandbox(sb);
    const missing = t.rt.createContainer(sid, { name: 'nope', image: 'edgeos.test/does-not-exist:1' }, sb);
    await expect(missing).rejects.toBeInstanceOf(RuntimeNotFoundError);
    await expect(missing).rejects.toThrow(/does-not-exist/);
    await expect(t.rt.pullImage('Not A Valid::Reference')).rejects.toBeInstanceOf(ImageReferenceError);
    // Nothing listens on port 1: the pull fails fast with the cause in the message.
    const refused = t.rt.pullImage('127.0.0.1:1/edgeos/none:1');
    await expect(refused).rejects.toBeInstanceOf(ImagePullError);
    await expect(refused).rejects.toThrow(/connection refused/);
    expect(await t.rt.imageStatus('edgeos.test/does-not-exist:1')).toBeUndefined();
    await t.rt.stopPodSandbox(sid);
    await t.rt.removePodSandbox(sid);
  });

  it('keeps pods running when containerd dies and is restarted', async () => {
    const sb = sandboxConfig();
    const sid = await t.rt.runPodSandbox(sb);
    const cid = await t.rt.createContainer(sid, { name: 'survivor', image: busyboxImage }, sb);
    await t.rt.startContainer(cid);
    const before = t.rt.containerdPid()!;
    process.kill(before, 'SIGKILL');
    await waitFor('containerd restarted', async () => t.rt.containerdPid() !== before && (await t.rt.version()).runtimeName === 'containerd', 60_000);
    expect(t.logs.some((l) => l.msg === 'containerd exited; restarting (running pods are not affected)')).toBe(true);
    expect((await t.rt.containerStatus(cid)).state).toBe('running');
    expect((await t.rt.execSync(cid, ['echo', 'still here'], 30)).stdout.toString()).toBe('still here\n');
    const sb2 = sandboxConfig();
    const sid2 = await t.rt.runPodSandbox(sb2);
    expect((await t.rt.podSandboxStatus(sid2)).state).toBe('ready');
    for (const id of [sid, sid2]) {
      await t.rt.stopPodSandbox(id);
      await t.rt.removePodSandbox(id);
    }
  });

  it('streams exec through containerd\'s streaming server (WebSocket, v4.channel.k8s.io)', async () => {
    const sb = sandboxConfig();
    const sid = await t.rt.runPodSandbox(sb);
    const cid = await t.rt.createContainer(sid, { name: 'shell', image: busyboxImage }, sb);
    await t.rt.startContainer(cid);
    const url = await t.rt.exec({ containerId: cid, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], stdout: true, stderr: true });
    const frames: [number, string][] = [];
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io']);
      ws.on('message', (d: Buffer) => { if (d.length > 1) frames.push([d[0]!, d.subarray(1).toString()]); });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    // Channel 1 stdout, 2 stderr, 3 the final status as a Kubernetes Status.
    expect(frames.filter(([c]) => c === 1).map(([, s]) => s).join('')).toBe('out\n');
    expect(frames.filter(([c]) => c === 2).map(([, s]) => s).join('')).toBe('err\n');
    const status = JSON.parse(frames.find(([c]) => c === 3)![1]);
    expect(status.details.causes).toEqual([{ reason: 'ExitCode', message: '4' }]);
    await t.rt.stopPodSandbox(sid);
    await t.rt.removePodSandbox(sid);
  });

  it('refuses a second agent on the same pod CIDR before starting its containerd', async () => {
    const dir = `${t.dir}/third-agent`;
    const clash = createContainerRuntime(resolveRuntimeConfig({ dataDir: dir, podCidr: '10.231.7.0/25', cniBridge: 'eostest-cd9' }), { log: silentLogger() });
    await expect(clash.start(new AbortController().signal)).rejects.toThrow(/--pod-cidr: 10.231.7.0\/25 overlaps 10.231.7.0\/24 routed via eostest-cd0/);
    expect(clash.containerdPid()).toBeUndefined();
    await clash.stop();
  });

  it('uses an existing CRI socket as it is with --container-runtime-endpoint', async () => {
    const external = createContainerRuntime(
      resolveRuntimeConfig({ dataDir: `${t.dir}/second-agent`, containerRuntimeEndpoint: `unix://${t.config.endpoint}` }),
      { log: silentLogger() },
    );
    await external.start(new AbortController().signal);
    expect((await external.version()).runtimeName).toBe('containerd');
    expect(external.containerdPid()).toBeUndefined();
    expect((await external.listImages()).some((i) => i.repoTags.includes(busyboxImage))).toBe(true);
    await external.stop();
    // Stopping a runtime that does not own containerd leaves it running.
    expect((await t.rt.version()).runtimeName).toBe('containerd');
    expect(existsSync(`${t.dir}/second-agent/agent/containerd`)).toBe(false);
  });

  it('imports tarballs dropped into the images dir (.tar.gz, .tar.zst, OCI) and collects unused images', async () => {
    const archive = (tag: string): Buffer => busyboxArchive(tag, ['echo', tag]);
    // A broken file is logged and skipped; it does not stop the others.
    writeFileSync(`${t.config.imagesDir}/broken.tar`, Buffer.alloc(4096, 7));
    writeFileSync(`${t.config.imagesDir}/late.tar.gz.part`, gzipSync(archive('edgeos.test/late-gz:1')));
    renameSync(`${t.config.imagesDir}/late.tar.gz.part`, `${t.config.imagesDir}/late.tar.gz`);
    writeFileSync(`${t.config.imagesDir}/late.tar.zst`, zstdCompressSync(archive('edgeos.test/late-zst:1')));
    const wanted = ['edgeos.test/late-gz:1', 'edgeos.test/late-zst:1'];
    if (hasSkopeo) {
      // An OCI layout archive, as `skopeo copy … oci-archive:` or buildah produce.
      writeFileSync(`${t.dir}/oci-src.tar`, archive('edgeos.test/late-oci-src:1'));
      execFileSync('skopeo', ['copy', '--quiet', `docker-archive:${t.dir}/oci-src.tar`, `oci-archive:${t.dir}/oci.tar:edgeos.test/late-oci:1`]);
      renameSync(`${t.dir}/oci.tar`, `${t.config.imagesDir}/late-oci.tar`);
      wanted.push('edgeos.test/late-oci:1');
    }
    const importedKinds = () => t.logs.filter((l) => l.msg === 'imported image archive').map((l) => l.compression);
    // containerd lists an image before `ctr import` has exited and the importer has logged it.
    const tags = await waitFor('all archives imported and logged', async () => {
      const all = (await t.rt.listImages()).flatMap((i) => i.repoTags);
      const logged = importedKinds();
      return wanted.every((w) => all.includes(w)) && logged.includes('gzip') && logged.includes('zstd') ? all : undefined;
    });
    expect(tags).toContain(busyboxImage);
    expect(importedKinds()).toEqual(expect.arrayContaining(['gzip', 'zstd']));
    const failed = t.logs.find((l) => l.msg === 'image archive import failed');
    expect(failed?.file).toBe(`${t.config.imagesDir}/broken.tar`);
    expect(String(failed?.err)).toMatch(/^import .*broken\.tar: ctr exited 1: /);

    // A container keeps busybox in use; the sandbox image is kept by name; the rest goes.
    const sb = sandboxConfig();
    const sid = await t.rt.runPodSandbox(sb);
    await t.rt.startContainer(await t.rt.createContainer(sid, { name: 'user', image: busyboxImage }, sb));
    const gc = new ImageGc({
      runtime: t.rt, fsPath: t.config.containerd!.root, highPercent: 0, lowPercent: 0, intervalMs: 60_000,
      keep: [t.config.pauseImage], log: silentLogger(),
    });
    const result = await gc.collect();
    expect(result.removed).toHaveLength(wanted.length);
    const left = (await t.rt.listImages()).flatMap((i) => i.repoTags).sort();
    expect(left).toEqual([t.config.pauseImage, busyboxImage].sort());
    await t.rt.stopPodSandbox(sid);
    await t.rt.removePodSandbox(sid);
  });

  it('stops containerd on stop()', async () => {
    const pid = t.rt.containerdPid()!;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await t.teardown();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(t.dir)).toBe(false);
    t = undefined as unknown as TestRuntime;
  });
});
