// Offline autonomy against a real containerd: a restarted agent adopts the running pod (same
// sandbox, same container, no restart), removes the sandbox of a pod deleted while it was down,
// and after a "reboot" (containerd restarted with every pod gone) recreates the cached pods.
import { request } from 'node:http';
import type { NodeStatus, Pod } from 'kubernetes-types/core/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podUidLabel } from '../../../src/agent/kubelet/labels.ts';
import { goArch } from '../../../src/agent/kubelet/node-info.ts';
import { removeAllPods } from '../../runtime/cleanup.ts';
import { cond, makePod, podJson, until } from './helpers.ts';
import { busyboxImage, startNode } from './node-harness.ts';
import type { TestNode } from './node-harness.ts';

let node: TestNode;

beforeAll(async () => {
  node = await startNode('autonomy', '10.231.43.0/24', 'eostest-kl3');
}, 120_000);

afterAll(async () => {
  await node?.teardown();
}, 120_000);

const uidOf = (p: Pod): string => p.metadata!.uid!;
const hostPort = 39700 + (process.pid % 200);

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

describe('kubelet on containerd: offline autonomy', () => {
  // httpd behind a hostPort; readiness by httpGet on a named port, liveness by tcpSocket.
  const app = makePod('app', `node-autonomy`, {
    containers: [{
      name: 'c', image: busyboxImage,
      command: ['sh', '-c', 'mkdir -p /www && echo "ok $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'],
      ports: [{ name: 'http', containerPort: 8080, hostPort }],
      readinessProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1 },
      livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
    }],
  });
  const doomed = makePod('doomed', `node-autonomy`, { containers: [{ name: 'c', image: busyboxImage, command: ['sleep', '3600'] }] });
  let sandboxId = '';
  let containerId = '';

  it('runs the pods', async () => {
    await node.cache.put('Pod', podJson(app));
    await node.cache.put('Pod', podJson(doomed));
    const s = await until('app Ready', () => { const x = node.sink.latest(uidOf(app)); return cond(x, 'Ready') === 'True' ? x : undefined; }, 60_000);
    await until('doomed Running', () => node.sink.latest(uidOf(doomed))?.phase === 'Running', 60_000);
    containerId = s.containerStatuses![0]!.containerID!.replace('containerd://', '');
    sandboxId = (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(app) } }))[0]!.id;
    expect(await until('hostPort answers', () => httpGet(`http://127.0.0.1:${hostPort}/index.html`), 30_000)).toBe('ok app\n');
    // Probes keep running every second, but an unchanged status is not sent again.
    const sent = node.sink.statuses.get(uidOf(app))!.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(node.sink.statuses.get(uidOf(app))!.length).toBe(sent);

    const ns = node.sink.nodeStatuses.at(-1) as NodeStatus;
    expect(ns.nodeInfo).toMatchObject({ containerRuntimeVersion: expect.stringMatching(/^containerd:\/\/1\.6\./), kubeletVersion: 'v1.32.0-edgeos', operatingSystem: 'linux', architecture: goArch() });
    expect(ns.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(Number(ns.capacity?.cpu)).toBeGreaterThan(0);
    expect(ns.capacity?.pods).toBe('110');
    expect(ns.images?.some((i) => i.names?.includes(busyboxImage))).toBe(true);
    expect(ns.addresses?.[0]?.type).toBe('InternalIP');
  });

  it('adopts running pods after an agent restart without recreating them', async () => {
    await node.stopKubelet();
    // While the agent is down the pod is deleted (the link will sync that from the server).
    await node.cache.delete('Pod', 'default', 'doomed');
    const sink = await node.startKubelet();
    const s = await until('Ready again', () => { const x = sink.latest(uidOf(app)); return cond(x, 'Ready') === 'True' ? x : undefined; }, 60_000);
    expect(s.containerStatuses![0]).toMatchObject({ containerID: `containerd://${containerId}`, restartCount: 0, ready: true });
    expect(s.phase).toBe('Running');
    const sandboxes = await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(app) } });
    expect(sandboxes.map((x) => x.id)).toEqual([sandboxId]);
    expect((await node.rt.listContainers({ labelSelector: { [podUidLabel]: uidOf(app) } })).map((c) => c.id)).toEqual([containerId]);
    expect(sink.reasons(uidOf(app)).filter((r) => r === 'Created' || r === 'Started' || r === 'Killing')).toEqual([]);
    await until('orphan removed', async () => (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(doomed) } })).length === 0, 60_000);
  });

  it('recreates the cached pods after a reboot that lost every container', async () => {
    await node.stopKubelet();
    await removeAllPods(node.config.endpoint);
    await node.stopRuntime();
    await node.startRuntime();
    expect(await node.rt.listPodSandboxes()).toEqual([]);
    const sink = await node.startKubelet();
    const s = await until('Running again', () => { const x = sink.latest(uidOf(app)); return x?.phase === 'Running' && cond(x, 'Ready') === 'True' ? x : undefined; }, 90_000);
    const sandboxes = await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(app) } });
    expect(sandboxes).toHaveLength(1);
    expect(sandboxes[0]!.id).not.toBe(sandboxId);
    expect(s.containerStatuses![0]!.containerID).not.toBe(`containerd://${containerId}`);
    expect(s.podIP).toMatch(/^10\.231\.43\.\d+$/);
    expect(sink.reasons(uidOf(app))).toContain('Started');
    expect(await until('hostPort answers again', () => httpGet(`http://127.0.0.1:${hostPort}/index.html`), 30_000)).toBe('ok app\n');
  });

  it('replaces a sandbox that died under a running kubelet', async () => {
    const before = (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(app) } }))[0]!;
    const old = node.sink.latest(uidOf(app))!.containerStatuses![0]!;
    await node.rt.stopPodSandbox(before.id);
    const s = await until('new sandbox Ready', async () => {
      const sbs = await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(app) }, state: 'ready' });
      const x = node.sink.latest(uidOf(app));
      const fresh = x?.containerStatuses?.[0]?.containerID !== old.containerID;
      return sbs.length === 1 && sbs[0]!.id !== before.id && fresh && cond(x, 'Ready') === 'True' ? x : undefined;
    }, 90_000);
    const ready = await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(app) }, state: 'ready' });
    expect(ready[0]!.metadata.attempt).toBe(before.metadata.attempt + 1);
    expect(s.containerStatuses![0]!.restartCount).toBe(old.restartCount + 1);
    expect(s.containerStatuses![0]!.lastState?.terminated?.containerID).toBe(old.containerID);
    expect(node.sink.reasons(uidOf(app))).toContain('SandboxChanged');
  });
});
