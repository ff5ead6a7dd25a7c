/**
 * Service topology and an offline pool with real agents: an `edgeos server` in a network namespace
 * of the test's own, and two devices joined with `edgeos join --pool`, each in its own namespace
 * (its own nftables, DNS address and pods): a1 in pool a, b1 in pool b. A PoolSet runs one web pod
 * per pool behind a Service with `service.edgeos.io/topology: pool`, driven by the real kubectl:
 *  - a pod in pool a reaching the Service by name only ever gets pool a's pod, and node a1's
 *    datapath holds only pool a's endpoint (pool b's appears when the annotation goes, and goes
 *    again when it comes back: the server re-sends the filtered slice);
 *  - pool a then cut off from the server (its link dropped by a firewall rule in its namespace):
 *    its in-pool Service keeps answering from the agent's cache with its pool's endpoint only, and
 *    although a1 is a Cloud-pool node told to evict after 2 s, it gets no NoExecute taint and its
 *    pods stay — the pool is offline as a whole.
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { KUBECTL } from '../helpers/kubectl.ts';
import { createNetns, linkNetns } from '../helpers/netns.ts';
import type { Netns } from '../helpers/netns.ts';
import { removeDataDir } from '../runtime/cleanup.ts';
import { REPO, releasePodCidrClaim, waitFor as waitForState } from './helpers.ts';
import { endStdin } from '../helpers/stdin.ts';

const NS = 'shop';
const IMAGE = 'edgeos.test/busybox:pools';
const SERVER_IP = '10.97.1.1';
const dir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-pools-'));
const kubeconfig = join(dir, 'kc.yaml');
const port = 20000 + Math.floor(Math.random() * 20000);

interface Device {
  readonly name: string;
  readonly pool: string;
  readonly ns: Netns;
  readonly data: string;
  child?: ChildProcess;
}
let srv: Netns;
let server: ChildProcess | undefined;
const devices: Device[] = [];
let out = '';

const context = () => `output:\n${out.slice(-4000)}`;
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => waitForState(what, fn, timeoutMs, context);

function run(ns: Netns, argv: readonly string[], input?: string, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(ns.prefix[0]!, [...ns.prefix.slice(1), ...argv], { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    endStdin(child, input);
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await run(srv, [KUBECTL, `--kubeconfig=${kubeconfig}`, ...args], input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${context()}`);
  return r.stdout;
}

/** `get HOST [PORT]` prints the body of GET / (the serving pod's hostname), as in services.test.ts. */
const GET = `get() { printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "$1" "\${2:-80}" | tail -n 1; }; `;
const hostSh = (ns: Netns, script: string) => run(ns, ['busybox', 'sh', '-c', GET + script]);

function startEdgeos(ns: Netns, label: string, args: string[]): ChildProcess {
  const child = ns.spawn([process.execPath, join(REPO, 'src/cli/main.ts'), ...args], { ...process.env, EDGEOS_LOG_LEVEL: 'info' });
  const tag = (b: Buffer) => (out += b.toString().replace(/^/gm, `[${label}] `));
  child.stdout?.on('data', tag);
  child.stderr?.on('data', tag);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

const WEB = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www';
const poolSet = {
  apiVersion: 'apps.edgeos.io/v1', kind: 'PoolSet', metadata: { name: 'web', namespace: NS },
  spec: {
    pools: ['a', 'b'],
    workload: { workloadTemplate: { deploymentTemplate: { spec: {
      replicas: 1, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', WEB], ports: [{ name: 'http', containerPort: 8080 }] }] } },
    } } } },
  },
};
const client = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: NS },
  spec: { nodeSelector: { 'apps.edgeos.io/pool': 'a' }, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
};
const service = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS, annotations: { 'service.edgeos.io/topology': 'pool' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};
const list = (items: object[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

/** Pod name and IP of the PoolSet's pod in `pool`. */
async function webPod(pool: string): Promise<{ name: string; ip: string }> {
  const [name, ip] = (await ok(['-n', NS, 'get', 'pods', '-l', `app=web,apps.edgeos.io/pool=${pool}`, '-o', 'jsonpath={.items[0].metadata.name} {.items[0].status.podIP}'])).split(' ');
  return { name: name!, ip: ip! };
}

/** The node's Service datapath (its nftables ruleset). */
const ruleset = (d: Device) => d.ns.exec(['nft', 'list', 'ruleset']);

beforeAll(async () => {
  srv = createNetns('poolsrv');
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${SERVER_IP}\n`);
  server = startEdgeos(srv, 'server', ['server', '--data-dir', join(dir, 'server'), '--https-listen-port', String(port), '--advertise-address', SERVER_IP, '--disable-agent', '--write-kubeconfig', kubeconfig, '--node-monitor-grace-period', '20s']);
  for (const [i, name, pool] of [[1, 'a1', 'a'], [2, 'b1', 'b']] as const) {
    const ns = createNetns(`pool${pool}`);
    // Each device on its own wire to the server's namespace; the server answers on SERVER_IP over both.
    linkNetns(srv, `10.97.${i}.1`, ns, `10.97.${i}.2`);
    if (i !== 1) ns.exec(['ip', 'route', 'add', `${SERVER_IP}/32`, 'via', `10.97.${i}.1`]);
    const data = join(dir, name);
    mkdirSync(join(data, 'agent', 'images'), { recursive: true });
    writeBusyboxArchive(join(data, 'agent', 'images', 'busybox.tar'), IMAGE, ['sleep', '3600']);
    devices.push({ name, pool, ns, data });
  }
  await waitFor('the server to be ready', async () => (await run(srv, [KUBECTL, `--kubeconfig=${kubeconfig}`, 'get', '--raw', '/readyz'])).stdout === 'ok', 90_000);
  await ok(['apply', '-f', '-'], list([
    { apiVersion: 'apps.edgeos.io/v1', kind: 'NodePool', metadata: { name: 'a' }, spec: { type: 'Cloud' } },
    { apiVersion: 'apps.edgeos.io/v1', kind: 'NodePool', metadata: { name: 'b' }, spec: { type: 'Cloud' } },
  ]));
  const token = (await run(srv, ['cat', join(dir, 'server', 'server', 'token')])).stdout.trim();
  for (const d of devices) d.child = startEdgeos(d.ns, d.name, ['join', token, '--node-name', d.name, '--pool', d.pool, '--data-dir', d.data, '--resolv-conf', join(dir, 'resolv.conf')]);
  for (const d of devices) await waitFor(`${d.name} to be Ready`, async () => (await ok(['get', 'node', d.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 150_000);
  await ok(['create', 'namespace', NS]);
  await ok(['apply', '-f', '-'], list([poolSet, client, service]));
  await waitFor('the web pods and the client to be ready', async () => {
    const ready = (await ok(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).trim().split('\n');
    return ready.filter((s) => s === 'True').length === 3;
  }, 180_000);
}, 420_000);

afterAll(async () => {
  if (process.env.EDGEOS_TEST_KEEP_LOGS) writeFileSync(process.env.EDGEOS_TEST_KEEP_LOGS, out);
  for (const d of devices) await stop(d.child);
  await stop(server);
  for (const d of devices) {
    // The agent left its pods running (by design): a containerd of our own, inside the device's
    // namespace where their network lives, removes them through CRI.
    await run(d.ns, [process.execPath, '--input-type=module', '-e', `const m = await import(${JSON.stringify(join(REPO, 'test/e2e/helpers.ts'))}); await m.removePodsOfStoppedAgent(${JSON.stringify(d.data)});`], undefined, 120_000);
    releasePodCidrClaim(d.data, d.ns.name);
    d.ns.remove();
    removeDataDir(d.data);
  }
  srv?.remove();
  rmSync(dir, { recursive: true, force: true });
}, 240_000);

describe('Service topology and an offline pool, with real agents', () => {
  it('keeps a pool a pod on pool a\'s endpoint; node a1\'s datapath never holds pool b\'s unless the annotation goes', async () => {
    const a = await webPod('a');
    const b = await webPod('b');
    const [a1] = devices;
    const answers = await waitFor('ten answers from the Service by name', async () => {
      const r = await run(srv, [KUBECTL, `--kubeconfig=${kubeconfig}`, '-n', NS, 'exec', 'client', '--', 'sh', '-c', `${GET} for i in 1 2 3 4 5 6 7 8 9 10; do get web; done`], undefined, 60_000);
      const lines = r.stdout.trim().split('\n').filter(Boolean);
      return lines.length === 10 ? lines : undefined;
    });
    expect(new Set(answers)).toEqual(new Set([a.name]));
    expect(ruleset(a1!)).toContain(a.ip);
    expect(ruleset(a1!)).not.toContain(b.ip);
    // Without the annotation a1 gets every endpoint: this is what the filter kept out.
    await ok(['-n', NS, 'annotate', 'service', 'web', 'service.edgeos.io/topology-']);
    await waitFor('pool b\'s endpoint in a1\'s datapath', async () => ruleset(a1!).includes(b.ip));
    await ok(['-n', NS, 'annotate', 'service', 'web', 'service.edgeos.io/topology=pool']);
    await waitFor('pool b\'s endpoint gone from a1\'s datapath again', async () => !ruleset(a1!).includes(b.ip));
    expect(ruleset(a1!)).toContain(a.ip);
  }, 180_000);

  it('keeps pool a\'s Service working with pool a cut off, and evicts none of its pods', async () => {
    const [a1] = devices;
    const a = await webPod('a');
    const b = await webPod('b');
    const clusterIp = (await ok(['-n', NS, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const podsBefore = (await ok(['-n', NS, 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.uid}'])).split(' ').sort();
    // A Cloud-pool node that would hand its pods over 2 s after it is lost — were it lost alone.
    await ok(['annotate', 'node', 'a1', 'edgeos.io/evict-after=2s']);
    a1!.ns.exec(['nft', '-f', '-'], `table inet eos_cut {\n  chain out {\n    type filter hook output priority 0;\n    ip daddr ${SERVER_IP} drop\n  }\n}\n`);
    await waitFor('a1 to be Unknown on the server', async () => (await ok(['get', 'node', 'a1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'Unknown', 90_000);
    // In the pool: by name (the agent's DNS) and by ClusterIP, from its cache, pool a's pod only.
    for (let i = 0; i < 5; i++) {
      const dns = await run(a1!.ns, ['busybox', 'nslookup', 'web.shop.svc.cluster.local', '10.43.0.10']);
      expect(dns.stdout, dns.stderr).toContain(`Address: ${clusterIp}`);
      expect((await hostSh(a1!.ns, `get ${clusterIp}`)).stdout.trim()).toBe(a.name);
    }
    expect(ruleset(a1!)).not.toContain(b.ip);
    // Well past evict-after and several lifecycle passes: no NoExecute taint, every pod still there.
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await ok(['get', 'node', 'a1', '-o', 'jsonpath={.spec.taints[?(@.effect=="NoExecute")].key}'])).toBe('');
    expect((await ok(['-n', NS, 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.uid}'])).split(' ').sort()).toEqual(podsBefore);
    expect((await hostSh(a1!.ns, `get ${clusterIp}`)).stdout.trim()).toBe(a.name);
  }, 180_000);
});
