// A fleet of 200 hollow nodes (bench/fleet/hollow-node.ts: the real agent — join, TLS
// link, cache, kubelet — over the in-memory runtime) against the real server process: every node
// joins with its own certificate through the join gate and turns Ready, a Deployment's pods spread
// over them and report Running, a server restart (a reconnect storm through the start gate) brings
// every link back resuming its watch (no relist, TLS sessions resumed) with nothing lost, a
// restart after the store compacted away every node's revision brings each back with a snapshot
// and still nothing lost, and a scale-down's deletions are honoured by the nodes. The 10,000-node
// run is bench/fleet; a slow consumer's link is test/link/slow-consumer.test.ts.
//
// The nodes' data dirs are on /dev/shm when there is one: many agents in one process each fsync
// their cache synchronously, and on a busy disk their shared event loop waits for it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHollowNode, startHollowNodes } from '../../bench/fleet/hollow-node.ts';
import type { HollowNode } from '../../bench/fleet/hollow-node.ts';
import { ResourceRegistry, objectKey } from '../../src/server/registry/index.ts';
import { encodeForStore } from '../../src/server/storage/objects.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import { serverProcess, testLog, waitFor } from './harness.ts';
import type { ApiJson, ServerProcess } from './harness.ts';

const NODES = 200;
const PODS = NODES;
let server: ServerProcess;
let nodesDir: string;
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
  nodesDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'edgeos-fleet-test-'));
  const names = Array.from({ length: NODES }, (_, i) => `hollow-${i}`);
  const t0 = performance.now();
  nodes = await startHollowNodes(names, 32, (name) =>
    startHollowNode({ token: server.token(), name, dataDir: join(nodesDir, name), log: testLog, backoff: { initialMs: 500, maxMs: 5000 } }),
  );
  await Promise.all(nodes.map((n) => n.ready));
  console.log(`${NODES} hollow nodes joined and synced in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await server?.dispose();
  if (nodesDir) rmSync(nodesDir, { recursive: true, force: true });
});

describe(`a fleet of ${NODES} hollow nodes`, () => {
  it('joins, turns Ready and runs a Deployment spread over the nodes', async () => {
    await waitFor('every node Ready', async () => ((await readyNodes()) === NODES ? true : undefined), 120_000, 2000);
    expect((await server.api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment(PODS))).status).toBe(201);
    await waitFor('every pod Running', async () => ((await runningPods()) === PODS ? true : undefined), 180_000, 2000);
    // The pods run on the hollow runtimes: invented sandbox and container ids, spread over nodes.
    expect(sum((n) => [...n.runtime.containers.values()].filter((c) => c.state === 'running').length)).toBe(PODS);
    expect(nodes.filter((n) => n.runtime.sandboxes.size > 0).length).toBeGreaterThan(NODES / 2);
  }, 600_000);

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
    await waitFor('every node Ready again', async () => ((await readyNodes()) === NODES ? true : undefined), 120_000, 2000);
    expect(await runningPods()).toBe(PODS);
  }, 600_000);

  it('comes back after a restart that compacted every revision away: each link relists, nothing lost', async () => {
    const relists = sum((n) => n.agent.link!.stats.relists);
    await server.stop();
    await waitFor('every link down', () => (nodes.every((n) => !n.agent.link!.connected) ? true : undefined), 30_000, 200);
    // The server is down: compact its store to the newest revision (no history left to resume from).
    // One write first, so that the compacted revision is past every node's (a node already at the
    // newest revision would rightly resume: nothing after it to replay).
    const store = await openSqliteStore({ file: join(server.dir, 'data', 'server', 'db', 'state.db'), log: testLog });
    const configMaps = new ResourceRegistry().resolve('', 'v1', 'configmaps')!;
    await store.create(objectKey(configMaps, 'default', 'compaction-marker'), encodeForStore(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'compaction-marker', namespace: 'default' } }));
    await store.compact(await store.currentRevision());
    await store.close();
    await server.start();
    await waitFor('every link back', () => (nodes.every((n) => n.agent.link!.connected) ? true : undefined), 120_000, 500);
    expect(sum((n) => n.agent.link!.stats.relists)).toBe(relists + NODES);
    await waitFor('every node Ready again', async () => ((await readyNodes()) === NODES ? true : undefined), 120_000, 2000);
    // The snapshots replaced every cache: the pods still run where they ran, none twice.
    expect(await runningPods()).toBe(PODS);
    expect(sum((n) => [...n.runtime.containers.values()].filter((c) => c.state === 'running').length)).toBe(PODS);
  }, 600_000);

  // Once in a 60-node run on a loaded machine a deleted pod stayed Terminating: its node's
  // termination report met a busy server and was dropped. Busy answers are now LINK_BUSY and sent
  // again (test/link/busy-server.test.ts).
  it('honours deletions: a scale-down removes the pods from the nodes', async () => {
    expect((await server.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/fleet', { spec: { replicas: PODS / 2 } })).status).toBe(200);
    let seen = '';
    await waitFor('the pods gone from the API', async () => {
      const r = await server.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dfleet');
      const items = r.body.items as ApiJson[];
      seen = JSON.stringify(items.filter((p) => p.metadata.deletionTimestamp).map((p) => [p.metadata.name, p.spec.nodeName, p.status?.phase]).slice(0, 5));
      return items.length === PODS / 2 ? true : undefined;
    }, 120_000, 2000).catch((err: unknown) => {
      throw new Error(`${String(err)}; still terminating: ${seen}`);
    });
    await waitFor('the containers gone from the nodes', () => (sum((n) => n.runtime.containers.size) === PODS / 2 ? true : undefined), 60_000, 500);
  }, 600_000);
});
