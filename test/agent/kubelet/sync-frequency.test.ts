// --sync-frequency reaches the kubelet, from each command's flag through its resolved config to the
// agent's options (cli/agent-command.ts agentSettings, cli/server-command.ts localAgentSettings),
// seen in what only the periodic resync does: a drift nobody announced is repaired. A pod's
// downwardAPI volume whose `..data` link someone removed is written again at the next pass; no
// cache change, PLEG event or probe wakes the worker for it. At 1s it is back within seconds; at
// the default (60–90 s) it is not, so a flag parsed but dropped fails here. The real server, the
// real join, link, cache, pod workers and volumes; only containerd is the in-memory FakeRuntime.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../src/agent/agent.ts';
import type { Agent } from '../../../src/agent/agent.ts';
import { resolveAgentConfig } from '../../../src/agent/join/agent-config.ts';
import { joinCluster } from '../../../src/agent/join/join.ts';
import { startLocalAgent } from '../../../src/agent/join/local-agent.ts';
import { agentSettings } from '../../../src/cli/agent-command.ts';
import { localAgentSettings } from '../../../src/cli/server-command.ts';
import { FakeRuntime } from '../../../src/runtime/fake-runtime.ts';
import { resolveServerConfig } from '../../../src/server/config.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { onProcessEnd } from '../../helpers/process-end.ts';
import { serverProcess, startInProcessServer, testLog, waitFor } from '../../link/harness.ts';
import type { ServerProcess } from '../../link/harness.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const pod = (name: string, node: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: name } },
  spec: {
    nodeName: node,
    // (The in-process server runs no controllers: no ServiceAccount to project a token of.)
    automountServiceAccountToken: false,
    containers: [{ name: 'c', image: 'example.com/c:1', volumeMounts: [{ name: 'info', mountPath: '/info' }] }],
    volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }],
  },
});

/** The `..data` links of the downwardAPI volumes under the kubelet's pod directories of `dataDir`. */
function dataLinks(dataDir: string): string[] {
  const pods = join(dataDir, 'agent', 'kubelet', 'pods');
  if (!existsSync(pods)) return [];
  return (readdirSync(pods, { recursive: true }) as string[]).filter((p) => p.endsWith('/kubernetes.io~downward-api/info/..data')).map((p) => join(pods, p));
}

/**
 * Waits for the pod's volume, lets the worker settle (its first passes are woken by the start),
 * removes the link and returns how long until a pass wrote it back (undefined: not within `withinMs`).
 */
async function repairSeconds(dataDir: string, running: () => Promise<boolean>, withinMs: number): Promise<number | undefined> {
  const [link] = await waitFor('the pod running with its volume written', async () => ((await running()) ? dataLinks(dataDir) : []).length === 1 ? dataLinks(dataDir) : undefined, 60_000);
  await new Promise((r) => setTimeout(r, 3000));
  rmSync(link!);
  const removed = performance.now();
  for (;;) {
    if (existsSync(link!)) return (performance.now() - removed) / 1000;
    if (performance.now() - removed > withinMs) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('--sync-frequency reaches the kubelet', () => {
  it('edgeos agent/join --sync-frequency 1s: an unannounced drift is repaired within seconds', async () => {
    const server: ServerProcess = await serverProcess();
    cleanups.push(() => server.dispose());
    const node = 'hygiene-sync-agent';
    const config = resolveAgentConfig({ syncFrequency: '1s', dataDir: join(server.dir, 'agent') }, {}, '/', node);
    await joinCluster({ token: server.token(), nodeName: node, dataDir: config.dataDir, register: { labels: {}, taints: [] }, log: testLog });
    // The command's own mapping of its config, then this test's runtime instead of containerd.
    const agent = createAgent({ ...agentSettings(config), runtime: { instance: new FakeRuntime({ anyImage: true }) }, log: testLog, onFailure: (err) => { throw err; } });
    cleanups.push(() => agent.stop());
    await agent.start(new AbortController().signal);
    await agent.ready;
    expect((await server.api('POST', '/api/v1/namespaces/default/pods', pod('drift', node))).status).toBe(201);

    const seconds = await repairSeconds(config.dataDir, async () => (await server.api('GET', '/api/v1/namespaces/default/pods/drift')).body?.status?.phase === 'Running', 8000);
    // 1 s stretched by up to half, plus the pass: well inside 8 s; the default's first resync is ≥ 60 s away.
    expect(seconds, 'the removed ..data link was not written again within 8 s').toBeDefined();
    expect(seconds!).toBeLessThan(8);
  }, 150_000);

  it('edgeos server --sync-frequency 1s: its local agent repairs the same drift within seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeos-hygiene-sync-'));
    // Also when this process dies before afterAll (a closed pipe, a signal): helpers/process-end.ts.
    const forget = onProcessEnd(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
      forget();
    });
    const stop = new AbortController();
    const node = 'hygiene-sync-local';
    const config = resolveServerConfig({ dataDir: join(dir, 'data'), syncFrequency: '1s' }, {});
    let started!: (a: Agent) => void;
    const agentStarted = new Promise<Agent>((r) => (started = r));
    const { server } = await startInProcessServer(dir, stop.signal, {
      startLocalAgent: async (ctx) => {
        const a = await startLocalAgent(ctx, { ...localAgentSettings(config), nodeName: node, runtime: { instance: new FakeRuntime({ anyImage: true }) }, log: testLog, signal: stop.signal, onFailure: (err) => { throw err; } });
        started(a);
        return a;
      },
    });
    cleanups.push(async () => {
      stop.abort();
      await server.stop();
    });
    await (await agentStarted).ready;
    const target = { kubeconfig: join(dir, 'kc.yaml'), cacheDir: join(dir, 'kube-cache') };
    const created = await kubectl(target, ['create', '-f', '-'], { stdin: JSON.stringify(pod('drift', node)) });
    expect(created.stderr).toBe('');

    const seconds = await repairSeconds(config.dataDir, async () => (await kubectl(target, ['get', 'pod', 'drift', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 8000);
    expect(seconds, 'the removed ..data link was not written again within 8 s').toBeDefined();
    expect(seconds!).toBeLessThan(8);
  }, 150_000);
});
