/**
 * High availability end to end (docs/ha.md): two `edgeos server` processes on one real PostgreSQL,
 * a device joined with `edgeos join` running pods on its own containerd, and a second agent that
 * runs no pods (no kubelet: its Lease, not a Ready condition, says it is linked), each linked to a different server at first. kubectl logs/exec through the server
 * the device is not linked to; kill -9 of the device's server: the device is Ready through the
 * other within 10 s and its containers never restart; kill -9 of the leader: the controllers resume
 * on the other (a Deployment scaled after the kill gets its pod on the device). Writes acknowledged
 * before each kill are all there afterwards.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJoinToken, encodeJoinToken } from '../../src/common/link/join-token.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { createConfigMap, joinTokenOf, kill9, leaseHolder, serverTokenFile, startHaServer } from '../helpers/ha-cluster.ts';
import type { HaServer } from '../helpers/ha-cluster.ts';
import { kubectl, kubectlStream } from '../helpers/kubectl.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import { deleteLink, removeDataDir } from '../runtime/cleanup.ts';
import { releasePodCidrClaim, removePodsOfStoppedAgent, spawnEdgeos, stopProcess, waitFor as waitForState } from './helpers.ts';

const DEVICE = 'ha-device';
const SPARE = 'ha-spare';
const IMAGE = 'edgeos.test/busybox:ha';
const deviceDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-ha-device-'));
const spareDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-ha-spare-'));
const runtimeConfig = resolveRuntimeConfig({ dataDir: deviceDir });

let pg: TestPostgres;
let url: string;
let a: HaServer;
let b: HaServer;
const serverDirs: string[] = [];
let device: ChildProcess | undefined;
let spare: ChildProcess | undefined;
let agentOut = '';

const context = () => `agent output:\n${agentOut.slice(-3000)}\nserver A:\n${a?.output().slice(-1500) ?? ''}\nserver B:\n${b?.output().slice(-1500) ?? ''}`;
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> => waitForState(what, fn, timeoutMs, context);

async function ok(s: HaServer, args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(s, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${context()}`);
  return r.stdout;
}

/** A's join token with its servers in the order given: the agent links to the first. */
function tokenFor(first: HaServer, second: HaServer): string {
  return encodeJoinToken({ ...decodeJoinToken(joinTokenOf(a)), servers: [first.url, second.url] });
}

const ready = async (s: HaServer, node: string) => (await kubectl(s, ['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True';
const leaseRenewedAfter = async (s: HaServer, node: string, t: number) => {
  const renew = (await kubectl(s, ['get', 'lease', node, '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}'])).stdout;
  return renew !== '' && Date.parse(renew) > t;
};
const containers = async (s: HaServer) =>
  (await ok(s, ['get', 'pods', '-n', 'ha', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}{"\\n"}{end}']))
    .split('\n')
    .filter(Boolean)
    .sort();
const linkedTo = (s: HaServer, node: string, from = 0) => s.output().slice(from).split('\n').some((l) => l.includes('"msg":"agent connected"') && l.includes(`"node":"${node}"`));

async function writeAcked(s: HaServer[], prefix: string, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    if (await createConfigMap(s[i % s.length]!, name, 'ha')) names.push(name);
  }
  expect(names).toHaveLength(n);
  return names;
}
async function allThere(s: HaServer, names: string[]): Promise<void> {
  const have = new Set((await ok(s, ['get', 'configmaps', '-n', 'ha', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' '));
  expect(names.filter((n) => !have.has(n))).toEqual([]);
}

beforeAll(async () => {
  pg = await startPostgres();
  url = pg.url(await pg.createDatabase('e2eha'));
  a = await startHaServer(url);
  b = await startHaServer(url, { tokenFile: serverTokenFile(a) });
  serverDirs.push(a.dir, b.dir);
  mkdirSync(join(deviceDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(deviceDir, 'agent', 'images', 'busybox.tar'), IMAGE, ['sh', '-c', 'echo started; exec httpd -f -p 8080 -h /']);
  // The device links to B, the spare agent to A: the two kills then hit each server's links.
  device = spawnEdgeos(['join', tokenFor(b, a), '--node-name', DEVICE, '--data-dir', deviceDir, '--node-label', 'site=ha'], (s) => (agentOut += s));
  spare = spawnEdgeos(['join', tokenFor(a, b), '--node-name', SPARE, '--data-dir', spareDir, '--disable-runtime'], (s) => (agentOut += s));
  // An agent without a runtime has no kubelet to report Ready: its Lease says it is there.
  await waitFor('the device Ready and the spare agent renewing its Lease', async () => (await ready(a, DEVICE)) && (await leaseRenewedAfter(a, SPARE, 0)));
  expect(linkedTo(b, DEVICE)).toBe(true);
  expect(linkedTo(a, SPARE)).toBe(true);
}, 180_000);

afterAll(async () => {
  try {
    await stopProcess(device);
    await stopProcess(spare);
    await a?.stop();
    await b?.stop();
  } finally {
    await removePodsOfStoppedAgent(deviceDir);
    deleteLink(runtimeConfig.cni.bridge);
    releasePodCidrClaim(deviceDir);
    removeDataDir(deviceDir);
    rmSync(spareDir, { recursive: true, force: true });
    for (const d of serverDirs) rmSync(d, { recursive: true, force: true });
    await pg?.destroy();
  }
}, 120_000);

describe('two servers, two agents, kill -9', () => {
  it('runs a Deployment on the device; logs, exec and port-forward reach it through the server it is not linked to', async () => {
    await ok(a, ['create', 'namespace', 'ha']);
    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ha }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      nodeSelector: { site: ha }
      containers: [{ name: web, image: ${IMAGE} }]
`;
    await ok(a, ['apply', '-f', '-'], { stdin: manifest });
    await ok(a, ['rollout', 'status', 'deployment/web', '-n', 'ha', '--timeout=150s'], { timeoutMs: 160_000 });
    const pod = (await ok(a, ['get', 'pods', '-n', 'ha', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    // A holds no link of the device: these go A → B (peer tunnel) → the device.
    expect(await ok(a, ['logs', pod, '-n', 'ha'])).toContain('started');
    expect(await ok(a, ['exec', pod, '-n', 'ha', '--', 'sh', '-c', 'echo through $((40 + 2))'])).toBe('through 42\n');
    expect((await kubectl(a, ['exec', pod, '-n', 'ha', '--', 'sh', '-c', 'exit 3'])).code).toBe(3);
    // port-forward too: a TCP connection here → kubectl → A → B → the device → the pod's httpd.
    const pf = kubectlStream(a, ['port-forward', '-n', 'ha', `pod/${pod}`, ':8080']);
    try {
      await waitFor('port-forward listening', async () => /Forwarding from 127\.0\.0\.1:\d+ -> 8080/.test(pf.output()), 30_000);
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.output())![1]);
      const res = await fetch(`http://127.0.0.1:${port}/etc/passwd`, { signal: AbortSignal.timeout(15_000) });
      expect(await res.text()).toContain('root:x:0:0:root:/root:/bin/sh');
    } finally {
      await pf.stop();
    }
  }, 240_000);

  it('kill -9 of the device\'s server: Ready through the other within 10 s, no container restarts, acknowledged writes kept', async () => {
    const before = await containers(a);
    expect(before).toHaveLength(2);
    const acked = await writeAcked([a, b], 'before-first-kill', 20);
    const from = a.output().length;
    await kill9(b);
    const killedAt = Date.now();
    await waitFor('the device linked to A and its Lease renewed through it', async () => linkedTo(a, DEVICE, from) && (await leaseRenewedAfter(a, DEVICE, killedAt)) && (await ready(a, DEVICE)), 30_000);
    const failover = Date.now() - killedAt;
    // It resumed from its revision on A: no relist, its cache stayed what it was.
    const relinks = agentOut.split('\n').filter((l) => l.includes(`"node":"${DEVICE}"`) && l.includes('"msg":"linked to the server"'));
    expect(relinks.at(-1)).toContain('"start":"resume"');
    console.log(`device failover after kill -9 of its server: ${failover} ms`);
    expect(failover).toBeLessThan(10_000);
    expect(await containers(a)).toEqual(before);
    await allThere(a, acked);
  }, 120_000);

  it('kill -9 of the leader: the controllers resume on the other; a Deployment scaled after the kill gets its pod', async () => {
    b = await startHaServer(url, { dir: b.dir, port: b.port, tokenFile: serverTokenFile(a) });
    expect(await leaseHolder(b)).toBe(a.id);
    const before = await containers(b);
    const acked = await writeAcked([a, b], 'before-second-kill', 20);
    const from = b.output().length;
    await kill9(a);
    const killedAt = Date.now();
    await ok(b, ['scale', 'deployment/web', '-n', 'ha', '--replicas=3']);
    await waitFor('three pods running on the device', async () => {
      const phases = (await ok(b, ['get', 'pods', '-n', 'ha', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}/{.status.phase} {end}'])).trim().split(' ');
      return phases.length === 3 && phases.every((p) => p === `${DEVICE}/Running`);
    }, 90_000);
    console.log(`controllers acting again after kill -9 of the leader: ${Date.now() - killedAt} ms`);
    expect(await leaseHolder(b)).toBe(b.id);
    const after = await containers(b);
    for (const c of before) expect(after).toContain(c); // the first two never restarted
    await waitFor('both agents linked to B', async () => linkedTo(b, DEVICE, from) && linkedTo(b, SPARE, from) && (await ready(b, DEVICE)), 30_000);
    await allThere(b, acked);
  }, 180_000);
});
