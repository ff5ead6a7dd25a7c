// A small fleet of hollow nodes (bench/fleet/hollow-node.ts: the real agent — join, TLS link,
// cache, kubelet — over the in-memory runtime) against the real server process: every node joins
// with its own certificate and turns Ready, a Deployment's pods spread over them and report
// Running, a server restart brings every link back resuming its watch (no relist) with nothing
// lost, and a scale-down's deletions are honoured by the nodes. The 10,000-node run is bench/fleet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHollowNode, startHollowNodes } from '../../bench/fleet/hollow-node.ts';
import type { HollowNode } from '../../bench/fleet/hollow-node.ts';
import { serverProcess, testLog, waitFor } from './harness.ts';
import type { ApiJson, ServerProcess } from './harness.ts';

const NODES = 30;
let server: ServerProcess;
let nodes: HollowNode[] = [];

const deployment = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'fleet', namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'fleet' } },
    template: { metadata: { labels: { app: 'fleet' } }, spec: { containers: [{ name: 'c', image: 'edgeos.test/hollow:1' }] } },
  },
});

const sum = (f: (n: HollowNode) => number) => nodes.reduce((a, n) => a + f(n), 0);
const readyNodes = async () => {
  const r = await server.api('GET', '/api/v1/nodes');
  return (r.body.items as ApiJson[]).filter((n) => n.status?.conditions?.some((c: ApiJson) => c.type === 'Ready' && c.status === 'True')).length;
};
const runningPods = async () => {
  const r = await server.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dfleet');
  return (r.body.items as ApiJson[]).filter((p) => p.status?.phase === 'Running').length;
};

beforeAll(async () => {
  server = await serverProcess();
  const names = Array.from({ length: NODES }, (_, i) => `hollow-${i}`);
  nodes = await startHollowNodes(names, 8, (name) =>
    startHollowNode({ token: server.token(), name, dataDir: `${server.dir}/fleet/${name}`, log: testLog, backoff: { initialMs: 500, maxMs: 5000 } }),
  );
  await Promise.all(nodes.map((n) => n.ready));
}, 240_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await server?.dispose();
});

describe(`a fleet of ${NODES} hollow nodes`, () => {
  it('joins, turns Ready and runs a Deployment spread over the nodes', async () => {
    await waitFor('every node Ready', async () => ((await readyNodes()) === NODES ? true : undefined), 90_000, 1000);
    expect((await server.api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment(NODES * 2))).status).toBe(201);
    await waitFor('every pod Running', async () => ((await runningPods()) === NODES * 2 ? true : undefined), 120_000, 1000);
    // The pods run on the hollow runtimes: invented sandbox and container ids, spread over nodes.
    expect(sum((n) => [...n.runtime.containers.values()].filter((c) => c.state === 'running').length)).toBe(NODES * 2);
    expect(nodes.filter((n) => n.runtime.sandboxes.size > 0).length).toBeGreaterThan(NODES / 2);
  }, 240_000);

  it('comes back after a server restart: every link resumes from its revision, nothing relists', async () => {
    const relists = sum((n) => n.agent.link!.stats.relists);
    const resumes = sum((n) => n.agent.link!.stats.resumes);
    const tlsResumptions = sum((n) => n.agent.link!.stats.tlsResumptions);
    expect(relists).toBe(NODES);
    await server.stop();
    await waitFor('every link down', () => (nodes.every((n) => !n.agent.link!.connected) ? true : undefined), 30_000, 200);
    await server.start();
    await waitFor('every link back', () => (nodes.every((n) => n.agent.link!.connected) ? true : undefined), 120_000, 500);
    expect(sum((n) => n.agent.link!.stats.resumes)).toBe(resumes + NODES);
    expect(sum((n) => n.agent.link!.stats.relists)).toBe(relists);
    // The server kept its ticket key: every reconnect resumed its TLS session.
    expect(sum((n) => n.agent.link!.stats.tlsResumptions)).toBe(tlsResumptions + NODES);
    await waitFor('every node Ready again', async () => ((await readyNodes()) === NODES ? true : undefined), 90_000, 1000);
    expect(await runningPods()).toBe(NODES * 2);
  }, 240_000);

  // Once in a 60-node run on a loaded machine a deleted pod stayed Terminating: its node's
  // termination report met a busy server and was dropped. Busy answers are now LINK_BUSY and sent
  // again (test/link/busy-server.test.ts).
  it('honours deletions: a scale-down removes the pods from the nodes', async () => {
    expect((await server.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/fleet', { spec: { replicas: NODES / 2 } })).status).toBe(200);
    let seen = '';
    await waitFor('the pods gone from the API', async () => {
      const r = await server.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dfleet');
      const items = r.body.items as ApiJson[];
      seen = JSON.stringify(items.filter((p) => p.metadata.deletionTimestamp).map((p) => [p.metadata.name, p.spec.nodeName, p.status?.phase]).slice(0, 5));
      return items.length === NODES / 2 ? true : undefined;
    }, 120_000, 1000).catch((err: unknown) => {
      throw new Error(`${String(err)}; still terminating: ${seen}`);
    });
    await waitFor('the containers gone from the nodes', () => (sum((n) => n.runtime.containers.size) === NODES / 2 ? true : undefined), 60_000, 500);
  }, 240_000);
});
