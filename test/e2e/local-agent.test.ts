/**
 * `edgeos server` runs a local agent in its own process by default, as `k3s server` does: its node
 * (named after the host) registers and becomes Ready, the scheduler places a pod on it, and
 * `kubectl logs`/`exec` reach the pod through the server's own tunnel; SIGTERM stops the server,
 * its agent and the agent's containerd cleanly (the pods keep running, as after any agent stop).
 * With --disable-agent no node appears and no containerd is started. The local agent keeps its
 * containerd, bridge (named from the data dir) and a claimed pod CIDR under the server's data dir,
 * so this file runs beside other containerd tests.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../src/runtime/cri/client.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { jsonLineCount, linesWithDuplicateKeys } from '../helpers/log-lines.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeDataDir } from '../runtime/cleanup.ts';
import { releasePodCidrClaim, removePodsOfStoppedAgent, waitFor as waitForState } from './helpers.ts';

const NODE = hostname().toLowerCase();
const IMAGE = 'edgeos.test/busybox:local-agent';
const serverDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-local-'));
const dataDir = join(serverDir, 'data');
const runtimeConfig = resolveRuntimeConfig({ dataDir });
let server: RunningServer | undefined;
let disabled: RunningServer | undefined;

const api = (): RunningServer => {
  if (!server) throw new Error('the server did not start');
  return server;
};
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> =>
  waitForState(what, fn, timeoutMs, () => `server output:\n${server?.output().slice(-4000) ?? ''}`);

async function ok(target: RunningServer, args: string[]): Promise<string> {
  const r = await kubectl(target, args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\nserver output:\n${target.output().slice(-4000)}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  // Air-gapped, as on a device: the local agent imports <data-dir>/agent/images at start.
  mkdirSync(join(dataDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(dataDir, 'agent', 'images', 'busybox.tar'), IMAGE, ['sh', '-c', 'echo hello from the local agent; exec sleep 3600']);
  [server, disabled] = await Promise.all([startServer({ dir: serverDir, localAgent: true }), startServer()]);
}, 120_000);

afterAll(async () => {
  // The server (and its agent) first, so no kubelet recreates what a containerd of our own on its
  // data dir then removes through CRI.
  try {
    await server?.stop();
    await disabled?.stop();
  } finally {
    await removePodsOfStoppedAgent(dataDir).finally(() => {
      deleteLink(runtimeConfig.cni.bridge);
      releasePodCidrClaim(dataDir);
      removeDataDir(serverDir);
    });
  }
}, 120_000);

describe('edgeos server with its local agent', () => {
  it("registers the server's own node, which becomes Ready", async () => {
    await waitFor('the local node to be Ready', async () =>
      (await ok(api(), ['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim() === 'True',
    90_000);
    expect((await ok(api(), ['get', 'nodes', '-o', 'name'])).trim()).toBe(`node/${NODE}`);
    expect(await ok(api(), ['get', 'node', NODE, '-o', 'jsonpath={.metadata.labels.node-role\\.kubernetes\\.io/control-plane}'])).toBe('true');
  }, 120_000);

  it('runs a scheduled pod; kubectl logs and exec reach it through the server', async () => {
    await ok(api(), ['run', 'hello', `--image=${IMAGE}`, '--restart=Never']);
    const placed = await waitFor('the pod to be Running', async () => {
      const r = (await ok(api(), ['get', 'pod', 'hello', '-o', 'jsonpath={.spec.nodeName} {.status.phase}'])).trim();
      return r.endsWith(' Running') ? r : undefined;
    }, 90_000);
    expect(placed).toBe(`${NODE} Running`);
    await waitFor('the log line', async () => (await ok(api(), ['logs', 'hello'])).includes('hello from the local agent'));
    expect(await ok(api(), ['exec', 'hello', '--', 'sh', '-c', 'echo $((6*7)); hostname'])).toBe('42\nhello\n');
    const failed = await kubectl(api(), ['exec', 'hello', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
  }, 150_000);

  it('SIGTERM stops the server, its agent and its containerd cleanly; the pod keeps running', async () => {
    const containerdPid = Number(readFileSync(join(dataDir, 'agent', 'containerd', 'containerd.pid'), 'utf8').trim());
    expect(alive(containerdPid)).toBe(true);
    const podPid = await (async () => {
      const cri = new CriClient({ endpoint: runtimeConfig.endpoint, defaultTimeoutMs: 20_000 });
      try {
        const { containers } = await cri.call('ListContainers', { filter: null });
        expect(containers.map((c) => c.labels['io.kubernetes.pod.name'])).toEqual(['hello']);
        const st = (await cri.call('ContainerStatus', { containerId: containers[0]?.id ?? '', verbose: true })) as unknown as { info?: Record<string, string> };
        return (JSON.parse(st.info?.info ?? '{}') as { pid?: number }).pid ?? 0;
      } finally {
        cri.close();
      }
    })();
    expect(podPid).toBeGreaterThan(0);

    const s = api();
    await s.stop(); // SIGTERM by PID; SIGKILL only after 10 s, which would leave no exit code
    expect(s.exitCode()).toBe(0);
    const out = s.output();
    expect(out).toContain('"msg":"agent stopped"');
    expect(out).not.toContain('did not stop in time');
    // Server, controllers, local agent, runtime, kubelet, link and both stores logged: each key once a line.
    expect(jsonLineCount(out)).toBeGreaterThan(20);
    expect(linesWithDuplicateKeys(out)).toEqual([]);
    await waitFor("the local agent's containerd to exit", async () => !alive(containerdPid), 20_000);
    expect(existsSync(join(dataDir, 'agent', 'containerd', 'containerd.pid'))).toBe(false);
    expect(alive(podPid)).toBe(true);
  }, 60_000);

  it('--disable-agent runs no local agent: no node, no containerd', async () => {
    const d = disabled;
    if (!d) throw new Error('the --disable-agent server did not start');
    // Started with the other server in beforeAll: its local agent, had it one, registered long ago.
    expect(d.output()).toContain('--disable-agent: running the server without a local agent');
    expect((await ok(d, ['get', 'nodes', '-o', 'name'])).trim()).toBe('');
    expect(existsSync(join(d.dir, 'data', 'agent'))).toBe(false);
  });
});
