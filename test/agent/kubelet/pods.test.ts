// A full pod against a real containerd: ConfigMap/Secret env and volumes (configMap, secret,
// emptyDir, hostPath, downwardAPI, projected), init containers in order, cgroup limits, readiness
// flipping Ready, and deletion from the cache (preStop runs, sandbox and pod files removed).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podUidLabel } from '../../../src/agent/kubelet/labels.ts';
import { cond, makePod, podJson, until } from './helpers.ts';
import { busyboxImage, startNode } from './node-harness.ts';
import type { TestNode } from './node-harness.ts';

let node: TestNode;

beforeAll(async () => {
  node = await startNode('pods', '10.231.41.0/24', 'eostest-kl1');
}, 120_000);

afterAll(async () => {
  await node?.teardown();
}, 120_000);

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function exec(cid: string, script: string): Promise<string> {
  const r = await node.rt.execSync(cid, ['sh', '-c', script], 20);
  if (r.exitCode !== 0) throw new Error(`exec ${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

describe('kubelet on containerd: a pod with config, volumes, init containers and probes', () => {
  let pod: Pod;
  let cid = '';

  it('runs init containers in order, then the app, and reports Running', async () => {
    const hostShare = join(node.dir, 'host-share');
    await node.cache.put('ConfigMap', { metadata: { name: 'app-config', namespace: 'default' }, data: { GREETING: 'hello', 'app.conf': 'port=8080\n' } });
    await node.cache.put('Secret', { metadata: { name: 'app-secret', namespace: 'default' }, type: 'Opaque', data: { PASSWORD: b64('s3cret'), 'tls.key': b64('KEY') } });
    pod = makePod('web', node.nodeName, {
      volumes: [
        { name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf' }], defaultMode: 0o640 } },
        { name: 'sec', secret: { secretName: 'app-secret' } },
        { name: 'scratch', emptyDir: {} },
        { name: 'host', hostPath: { path: hostShare, type: 'DirectoryOrCreate' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
        { name: 'proj', projected: { sources: [
          { configMap: { name: 'app-config', items: [{ key: 'GREETING', path: 'greeting' }] } },
          { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
        ] } },
      ],
      initContainers: [
        { name: 'init-1', image: busyboxImage, command: ['sh', '-c', 'sleep 1; echo one >> /scratch/order'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] },
        { name: 'init-2', image: busyboxImage, command: ['sh', '-c', 'echo two >> /scratch/order'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] },
      ],
      containers: [{
        name: 'app',
        image: busyboxImage,
        command: ['sh', '-c'],
        args: ['echo $(MSG); exec sleep 3600'],
        env: [
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'GREETING' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'PASSWORD' } } },
          { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'absent', key: 'x', optional: true } } },
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'MSG', value: '$(GREETING) from $(MY_NAME)' },
        ],
        envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'app-config' } }],
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/app' },
          { name: 'sec', mountPath: '/etc/secret' },
          { name: 'scratch', mountPath: '/scratch' },
          { name: 'host', mountPath: '/host' },
          { name: 'info', mountPath: '/etc/podinfo' },
          { name: 'proj', mountPath: '/var/run/proj' },
        ],
        resources: { limits: { cpu: '500m', memory: '64Mi' } },
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye > /host/prestop'] } } },
      }],
    });
    await node.cache.put('Pod', podJson(pod));
    const uid = pod.metadata!.uid!;
    const running = await until('pod Running', () => {
      const s = node.sink.latest(uid);
      return s?.phase === 'Running' && s.containerStatuses?.[0]?.state?.running ? s : undefined;
    }, 90_000);
    cid = running.containerStatuses![0]!.containerID!.replace('containerd://', '');
    expect(running.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.exitCode, s.state?.terminated?.reason])).toEqual([
      ['init-1', 0, 'Completed'], ['init-2', 0, 'Completed'],
    ]);
    expect(cond(running, 'Initialized')).toBe('True');
    expect(cond(running, 'PodScheduled')).toBe('True');
    expect(cond(running, 'PodReadyToStartContainers')).toBe('True');
    expect(running.podIP).toMatch(/^10\.231\.41\.\d+$/);
    // Init containers without limits make the pod Burstable (QoS counts every container).
    expect(running.qosClass).toBe('Burstable');
    expect(running.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const app = running.containerStatuses![0]!;
    expect(app).toMatchObject({ name: 'app', image: busyboxImage, restartCount: 0, ready: false, started: true });
    expect(app.imageID).toMatch(/^sha256:/);
    // Earlier statuses went through Pending while init containers ran.
    expect(node.sink.statuses.get(uid)!.some((s) => s.phase === 'Pending' && s.containerStatuses?.[0]?.state?.waiting?.reason === 'PodInitializing')).toBe(true);

    const sandboxes = await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uid } });
    expect(sandboxes).toHaveLength(1);
    expect(sandboxes[0]!.labels).toMatchObject({ 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'default', app: 'web' });
    const reasons = node.sink.reasons(uid);
    for (const r of ['Pulled', 'Created', 'Started', 'TokenUnavailable']) expect(reasons).toContain(r);
    const started = node.sink.events.filter((e) => e.involvedObject.uid === uid && e.reason === 'Started').map((e) => e.involvedObject.fieldPath);
    expect(started).toEqual(['spec.initContainers{init-1}', 'spec.initContainers{init-2}', 'spec.containers{app}']);
  });

  it('gave the container its environment, volumes and cgroup limits', async () => {
    const env = await exec(cid, 'env');
    expect(env).toContain('GREETING=hello\n');
    expect(env).toContain('PASSWORD=s3cret\n');
    expect(env).toContain('MY_NAME=web\n');
    expect(env).toMatch(/MY_IP=10\.231\.41\.\d+\n/);
    expect(env).toContain('MSG=hello from web\n');
    expect(env).toContain('CFG_GREETING=hello\n');
    expect(env).not.toContain('OPTIONAL=');
    expect(await exec(cid, 'cat /scratch/order')).toBe('one\ntwo\n');
    expect(await exec(cid, 'cat /etc/app/conf/app.conf; stat -L -c %a /etc/app/conf/app.conf')).toBe('port=8080\n640\n');
    expect(await exec(cid, 'ls /etc/app')).toBe('conf\n');
    expect(await exec(cid, 'cat /etc/secret/PASSWORD /etc/secret/tls.key')).toBe('s3cretKEY');
    expect(await exec(cid, 'cat /etc/podinfo/name; echo; cat /etc/podinfo/labels')).toBe('web\napp="web"');
    expect(await exec(cid, 'cat /var/run/proj/greeting; ls /var/run/proj')).toBe('hellogreeting\n');
    expect(await exec(cid, 'touch /etc/app/x 2>&1 || echo read-only')).toContain('read-only');
    expect(await exec(cid, 'grep web /etc/hosts')).toMatch(/^10\.231\.41\.\d+\tweb\n$/);
    expect(await exec(cid, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes')).toBe(`${64 * 2 ** 20}\n`);
    expect(await exec(cid, 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us')).toBe('50000\n');
  });

  it('updates a mounted ConfigMap volume when the ConfigMap changes', async () => {
    await node.cache.put('ConfigMap', { metadata: { name: 'app-config', namespace: 'default' }, data: { GREETING: 'hello', 'app.conf': 'port=9090\n' } });
    await until('configMap volume refreshed', async () => (await exec(cid, 'cat /etc/app/conf/app.conf')) === 'port=9090\n', 30_000);
  });

  it('flips Ready with the readiness probe', async () => {
    const uid = pod.metadata!.uid!;
    await exec(cid, 'touch /tmp/ready');
    const ready = await until('Ready', () => { const s = node.sink.latest(uid); return cond(s, 'Ready') === 'True' ? s : undefined; }, 30_000);
    expect(cond(ready, 'ContainersReady')).toBe('True');
    expect(ready.containerStatuses?.[0]?.ready).toBe(true);
    await exec(cid, 'rm /tmp/ready');
    const notReady = await until('not Ready', () => { const s = node.sink.latest(uid); return cond(s, 'Ready') === 'False' ? s : undefined; }, 30_000);
    expect(notReady.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ContainersNotReady');
    expect(notReady.phase).toBe('Running');
    expect(node.sink.reasons(uid)).toContain('Unhealthy');
  });

  it('stops the pod gracefully (preStop) and removes it when it leaves the cache', async () => {
    const uid = pod.metadata!.uid!;
    await node.cache.delete('Pod', 'default', 'web');
    await until('sandbox removed', async () => (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uid } })).length === 0, 60_000);
    // The pod's directories go after its sandbox, in the same cleanup.
    await until('pod directories removed', () => !existsSync(join(node.rootDir, 'pods', uid)) && !existsSync(join(node.config.podLogsDir, `default_web_${uid}`)), 30_000);
    expect(readFileSync(join(node.dir, 'host-share', 'prestop'), 'utf8')).toBe('bye\n');
    expect(await node.rt.listContainers({ labelSelector: { [podUidLabel]: uid } })).toEqual([]);
    expect(existsSync(join(node.rootDir, 'pods', uid))).toBe(false);
    expect(existsSync(join(node.config.podLogsDir, `default_web_${uid}`))).toBe(false);
    expect(node.sink.reasons(uid)).toContain('Killing');
  });
});

describe('kubelet on containerd: pods that cannot start yet', () => {
  it('reports ErrImagePull, then ImagePullBackOff, for an image no registry has', async () => {
    const pod = makePod('nopull', node.nodeName, { containers: [{ name: 'c', image: '127.0.0.1:9/missing/image:1' }] });
    await node.cache.put('Pod', podJson(pod));
    const uid = pod.metadata!.uid!;
    const seen = await until('ErrImagePull then ImagePullBackOff', () => {
      const reasons = (node.sink.statuses.get(uid) ?? []).map((s) => s.containerStatuses?.[0]?.state?.waiting?.reason);
      const i = reasons.indexOf('ErrImagePull');
      return i >= 0 && reasons.indexOf('ImagePullBackOff', i) > i ? reasons : undefined;
    }, 60_000);
    expect(seen).toContain('ImagePullBackOff');
    expect(node.sink.latest(uid)?.phase).toBe('Pending');
    const failed = node.sink.events.find((e) => e.involvedObject.uid === uid && e.reason === 'Failed');
    expect(failed?.message).toMatch(/^Failed to pull image "127\.0\.0\.1:9\/missing\/image:1": /);
    expect(node.sink.reasons(uid)).toEqual(expect.arrayContaining(['Pulling', 'Failed', 'BackOff']));
    await node.cache.delete('Pod', 'default', 'nopull');
  });

  it('waits in CreateContainerConfigError / FailedMount until the ConfigMap arrives, then runs the postStart hook', async () => {
    const pod = makePod('later', node.nodeName, {
      volumes: [{ name: 'v', configMap: { name: 'late-volume' } }],
      containers: [{
        name: 'c', image: busyboxImage, command: ['sleep', '3600'],
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'late-env', key: 'x' } } }],
        volumeMounts: [{ name: 'v', mountPath: '/v' }],
        lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo "$X" > /tmp/post-start'] } } },
      }],
    });
    const uid = pod.metadata!.uid!;
    await node.cache.put('Pod', podJson(pod));
    const mount = await until('FailedMount', () => node.sink.events.find((e) => e.involvedObject.uid === uid && e.reason === 'FailedMount'), 30_000);
    expect(mount.message).toBe('MountVolume.SetUp failed for volume "v" : configmap "late-volume" not found');
    expect(node.sink.latest(uid)?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');

    await node.cache.put('ConfigMap', { metadata: { name: 'late-volume', namespace: 'default' }, data: { f: 'file' } });
    const waiting = await until('CreateContainerConfigError', () => {
      const w = node.sink.latest(uid)?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    }, 30_000);
    expect(waiting.message).toBe('configmap "late-env" not found');

    await node.cache.put('ConfigMap', { metadata: { name: 'late-env', namespace: 'default' }, data: { x: 'arrived' } });
    const running = await until('running', () => node.sink.latest(uid)?.containerStatuses?.[0]?.state?.running && node.sink.latest(uid), 30_000);
    const cid = running.containerStatuses![0]!.containerID!.replace('containerd://', '');
    expect(await exec(cid, 'cat /tmp/post-start /v/f')).toBe('arrived\nfile');
    await node.cache.delete('Pod', 'default', 'later');
    await until('sandbox removed', async () => (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uid } })).length === 0, 60_000);
    // The pod's directories go after its sandbox, in the same cleanup.
    await until('pod directories removed', () => !existsSync(join(node.rootDir, 'pods', uid)) && !existsSync(join(node.config.podLogsDir, `default_web_${uid}`)), 30_000);
  });
});
