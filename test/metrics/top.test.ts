// `kubectl top pod` and `kubectl top node` (kubectl 1.32) against the real server, with usage
// that the server asks a joined agent for over its real link (`stats-request`), only when
// metrics are read. The agents run without a container runtime, so the test hands their links
// the sampler the kubelet's collector would (and counts its calls).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeStatsReport } from '../../src/common/link/protocol.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { serverProcess, startTestAgent, waitFor } from '../link/harness.ts';
import type { ServerProcess, TestAgent } from '../link/harness.ts';

let server: ServerProcess;
let agent: TestAgent;
/** A second node whose agent gets slow. */
let slow: TestAgent;
let sampled = 0;
const uids: Record<string, string> = {};

async function createPod(namespace: string, name: string, labels: Record<string, string>): Promise<void> {
  const r = await server.api('POST', `/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: 'metered', containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'busybox' }] },
  });
  expect(r.status).toBe(201);
  uids[`${namespace}/${name}`] = r.body.metadata.uid;
}

const report = (): NodeStatsReport => ({
  timestamp: Date.now(),
  windowMs: 15_000,
  node: { cpuNanoCores: 250_000_000, memoryBytes: 512 * 2 ** 20 },
  pods: [
    { namespace: 'default', name: 'web', uid: uids['default/web']!, containers: [
      { name: 'app', cpuNanoCores: 12_000_000, memoryBytes: 20 * 2 ** 20 },
      { name: 'sidecar', cpuNanoCores: 1_234_567, memoryBytes: 12_345 * 1024 },
    ] },
    { namespace: 'default', name: 'db', uid: uids['default/db']!, containers: [{ name: 'app', cpuNanoCores: 3e9, memoryBytes: 2 ** 30 }] },
    { namespace: 'kube-system', name: 'dns', uid: uids['kube-system/dns']!, containers: [{ name: 'app', cpuNanoCores: 1_000_000, memoryBytes: 2 ** 20 }] },
    // A pod the API does not have (deleted since the sample): not served.
    { namespace: 'default', name: 'ghost', uid: 'nope', containers: [{ name: 'app', cpuNanoCores: 1, memoryBytes: 1 }] },
  ],
});

beforeAll(async () => {
  server = await serverProcess();
  await createPod('default', 'web', { app: 'web' });
  await createPod('default', 'db', { app: 'db' });
  await createPod('kube-system', 'dns', { app: 'dns' });
  agent = await startTestAgent(server.token(), 'metered', server.dir, { labels: { zone: 'lab' } });
  slow = await startTestAgent(server.token(), 'slow', server.dir);
  // kubectl top node takes allocatable from the Node for its percentages.
  agent.agent.link!.statusSink.nodeStatus({ capacity: { cpu: '4', memory: '4Gi' }, allocatable: { cpu: '4', memory: '4Gi' } });
  await waitFor('node allocatable', async () => ((await server.api('GET', '/api/v1/nodes/metered')).body.status?.allocatable?.cpu === '4' ? true : undefined));
}, 120_000);

afterAll(async () => {
  await slow?.stop();
  await agent?.stop();
  await server?.dispose();
});

const rows = (stdout: string) => stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));

describe('kubectl top over the link', () => {
  it('says metrics are not available while no agent can sample (and answers at once)', async () => {
    const started = Date.now();
    expect((await server.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).body.items).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2500); // a refusal, not the 5 s timeout
    const list = await kubectl(server, ['top', 'node']);
    expect(list.code).not.toBe(0);
    expect(list.stderr).toMatch(/metrics not available/i);
    // metrics-server's answer for a pod it has no sample of.
    const one = await kubectl(server, ['top', 'pod', 'web']);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toContain('podmetrics.metrics.k8s.io "default/web" not found');
    expect((await server.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).body.items).toEqual([]);
  });

  it('asks the agent only when metrics are read, once for concurrent reads, and serves its sample as PodMetrics and NodeMetrics', async () => {
    agent.agent.link!.statusSink.serveStats!(async () => {
      sampled++;
      await new Promise((r) => setTimeout(r, 300));
      return report();
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(sampled).toBe(0); // nothing is pushed
    const lists = await Promise.all([1, 2, 3, 4, 5].map(() => server.api('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')));
    expect(sampled).toBe(1);
    const list = lists[0]!.body;
    // One sample for all five; only creationTimestamp (the time of each answer, as metrics-server
    // sets it) may differ when the reads straddle a second.
    const withoutAnswerTime = (body: { items: Array<{ metadata: Record<string, unknown> }> }) =>
      body.items.map(({ metadata: { creationTimestamp: _t, ...metadata }, ...rest }) => ({ ...rest, metadata }));
    for (const l of lists) expect(withoutAnswerTime(l.body)).toEqual(withoutAnswerTime(list));
    expect(list.kind).toBe('PodMetricsList');
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['db', 'web']);
    const web = (await server.api('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web')).body;
    expect(web).toMatchObject({
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      window: '15s',
      containers: [{ name: 'app', usage: { cpu: '12m', memory: '20Mi' } }, { name: 'sidecar', usage: { cpu: '1234567n', memory: '12345Ki' } }],
    });
    expect((await server.api('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/ghost')).status).toBe(404);
    const all = (await server.api('GET', '/apis/metrics.k8s.io/v1beta1/pods')).body;
    expect(all.items.map((i: { metadata: { namespace: string; name: string } }) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['default/db', 'default/web', 'kube-system/dns']);
    const node = (await server.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/metered')).body;
    expect(node).toMatchObject({ kind: 'NodeMetrics', metadata: { name: 'metered', labels: { zone: 'lab' } }, usage: { cpu: '250m', memory: '512Mi' } });
    expect(sampled).toBe(1); // a sample younger than 10 s is reused
    expect(agent.agent.link!.stats.statsServed).toBe(1);
  });

  it('kubectl top pod prints CPU and memory, per namespace, across namespaces, by label and per container', async () => {
    const pods = await kubectl(server, ['top', 'pod']);
    expect(pods.stderr).toBe('');
    expect(rows(pods.stdout)).toEqual([
      ['NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['db', '3000m', '1024Mi'],
      ['web', '14m', '32Mi'],
    ]);
    const all = await kubectl(server, ['top', 'pod', '-A']);
    expect(rows(all.stdout)).toContainEqual(['kube-system', 'dns', '1m', '1Mi']);
    const byLabel = await kubectl(server, ['top', 'pod', '-l', 'app=web']);
    expect(rows(byLabel.stdout).slice(1)).toEqual([['web', '14m', '32Mi']]);
    const one = await kubectl(server, ['top', 'pod', 'web', '--containers']);
    // kubectl rounds CPU up to whole millicores: 12m + 1.23m is 14m, 1234567n is 2m.
    expect(rows(one.stdout).slice(1)).toEqual([['web', 'app', '12m', '20Mi'], ['web', 'sidecar', '2m', '12Mi']]);
  });

  it('kubectl top node prints the node with its share of allocatable', async () => {
    const r = await kubectl(server, ['top', 'node']);
    expect(r.stderr).toBe('');
    const [header, row] = rows(r.stdout);
    expect(header).toEqual(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    expect(row).toEqual(['metered', '250m', '6%', '512Mi', '12%']);
    expect(rows((await kubectl(server, ['top', 'node', '-l', 'zone=elsewhere'])).stdout + '\n').length).toBeLessThanOrEqual(1);
  });

  it('leaves out a node whose agent does not answer in time, without hanging the request', async () => {
    let asked = 0;
    slow.agent.link!.statusSink.serveStats!(() => {
      asked++;
      return new Promise(() => undefined); // never answers
    });
    const started = Date.now();
    const list = (await server.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).body;
    const took = Date.now() - started;
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['metered']);
    expect(asked).toBe(1);
    expect(took).toBeGreaterThan(4000); // the server waited for it ...
    expect(took).toBeLessThan(8000); // ... 5 s, not for ever
    // The timeout is remembered for a while: the next reads do not wait again.
    const again = Date.now();
    expect((await server.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/slow')).status).toBe(404);
    const top = await kubectl(server, ['top', 'node', '--no-headers']);
    expect(Date.now() - again).toBeLessThan(4000);
    expect(asked).toBe(1);
    expect(top.stdout).toMatch(/^metered\s+250m/m);
    expect(slow.agent.link!.connected).toBe(true); // a slow answer is not a broken link
  }, 30_000);

  it('forgets the node’s usage when its link closes', async () => {
    await agent.stop();
    await waitFor('metrics dropped', async () => ((await server.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).body.items?.length === 0 ? true : undefined), 15_000);
    expect((await server.api('GET', '/apis/metrics.k8s.io/v1beta1/pods')).body.items).toEqual([]);
  });
});
