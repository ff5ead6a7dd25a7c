// The link survives the server: killed and restarted on the same port, the agent reconnects with
// backoff and resumes its watch from the stored revision (no relist); a frozen server (SIGSTOP)
// is detected by missed pings, and the agent reconnects after SIGCONT. Leases are renewed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverProcess, sleep, startTestAgent, waitFor } from './harness.ts';
import type { ServerProcess, TestAgent } from './harness.ts';

let server: ServerProcess;
let agent: TestAgent;

const cm = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } });
const podUsing = (name: string, configMap: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeName: 'resilient', containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: configMap } }] }] },
});

beforeAll(async () => {
  server = await serverProcess();
  expect((await server.api('POST', '/api/v1/namespaces/default/configmaps', cm('conf', '1'))).status).toBe(201);
  expect((await server.api('POST', '/api/v1/namespaces/default/pods', podUsing('web', 'conf'))).status).toBe(201);
  agent = await startTestAgent(server.token(), 'resilient', server.dir, { pingIntervalMs: 1000 });
});

afterAll(async () => {
  await agent?.stop();
  await server?.dispose();
});

const stats = () => agent.agent.link!.stats;
const confValue = async () => ((await agent.agent.cache!.get('ConfigMap', 'default', 'conf'))?.data as { v?: string } | undefined)?.v;

describe('reconnect and resume', () => {
  it('syncs once with a snapshot', async () => {
    await waitFor('first sync', async () => ((await confValue()) === '1' ? true : undefined));
    expect(stats().relists).toBe(1);
    expect(stats().connects).toBe(1);
  });

  it('resumes after the server is killed and restarted, without relisting', async () => {
    const before = { ...stats() };
    await server.stop('SIGKILL');
    await waitFor('the agent to notice', () => (!agent.agent.link!.connected ? true : undefined), 10_000);
    // A few failed attempts while the server is down: backoff, not a tight loop.
    await sleep(2500);
    const attempts = stats().disconnects - before.disconnects;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThan(15);
    await server.start();
    await waitFor('reconnect', () => (stats().connects > before.connects ? true : undefined), 30_000);
    expect(stats().resumes).toBe(before.resumes + 1);
    expect(stats().relists).toBe(before.relists);
    // Changes after the restart arrive over the resumed watch.
    expect((await server.api('PATCH', '/api/v1/namespaces/default/configmaps/conf', { data: { v: '2' } })).status).toBe(200);
    await waitFor('the update', async () => ((await confValue()) === '2' ? true : undefined));
    expect(server.output()).toMatch(/agent resumed its watch/);
  }, 90_000);

  it('detects a frozen server (half-open link) and reconnects after it continues', async () => {
    const before = { ...stats() };
    server.signal('SIGSTOP');
    try {
      // Pings every second, two misses: the agent must give up on the link within a few seconds.
      await waitFor('the agent to drop the frozen link', () => (!agent.agent.link!.connected ? true : undefined), 15_000, 100);
    } finally {
      server.signal('SIGCONT');
    }
    await waitFor('reconnect after SIGCONT', () => (stats().connects > before.connects && agent.agent.link!.connected ? true : undefined), 45_000);
    expect(stats().relists).toBe(before.relists);
    expect((await server.api('PATCH', '/api/v1/namespaces/default/configmaps/conf', { data: { v: '3' } })).status).toBe(200);
    await waitFor('the update after SIGCONT', async () => ((await confValue()) === '3' ? true : undefined));
  }, 90_000);
});

describe('node lease', () => {
  it('is written every 20 s in kube-node-lease (renewed every 10 s on the link)', async () => {
    const renewTime = async () => {
      const r = await server.api('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/resilient');
      return r.status === 200 ? String(r.body.spec.renewTime) : undefined;
    };
    const first = await waitFor('the lease', renewTime);
    const lease = (await server.api('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/resilient')).body;
    expect(lease.spec.holderIdentity).toBe('resilient');
    expect(lease.spec.leaseDurationSeconds).toBe(40);
    const second = await waitFor('a renewal', async () => {
      const t = await renewTime();
      return t && t !== first ? t : undefined;
    }, 35_000);
    const third = await waitFor('another renewal', async () => {
      const t = await renewTime();
      return t && t !== second ? t : undefined;
    }, 35_000);
    const gap = Date.parse(third) - Date.parse(second);
    expect(gap).toBeGreaterThan(18_000);
    expect(gap).toBeLessThan(25_000);
    expect(agent.agent.link!.stats.leaseRenewals).toBeGreaterThanOrEqual(4);
  }, 90_000);
});
