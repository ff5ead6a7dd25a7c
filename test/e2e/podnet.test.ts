/**
 * One pod network across nodes, end to end, in network namespaces of the test's own: a "lan"
 * namespace holds the LAN (a Linux bridge, also the nodes' default gateway) and the server; two
 * node namespaces each run `edgeos join` (the agent with its own containerd, bridge, VXLAN device
 * and nftables tables inside the namespace). Driven by the real kubectl: the server assigns each
 * node a pod CIDR, pods on different nodes reach each other by IP over the VXLAN overlay with
 * their own addresses (no masquerade inside the cluster CIDR), traffic leaving the cluster is
 * masqueraded, a Service whose endpoint is on the other node answers, the pods' MTU leaves room
 * for VXLAN's headers; then the server is killed and the nodes keep talking, and an agent
 * restarted while it is down keeps its pod CIDR and its pods' addresses.
 */
import { execFile, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { KUBECTL } from '../helpers/kubectl.ts';
import { linesWithDuplicateKeys } from '../helpers/log-lines.ts';
import { createNetns } from '../helpers/netns.ts';
import type { Netns } from '../helpers/netns.ts';
import { removeDataDir } from '../runtime/cleanup.ts';
import { REPO, releasePodCidrClaim, waitFor as waitForState } from './helpers.ts';
import { GET, WEB, v4 } from './pod-web.ts';
import { endStdin } from '../helpers/stdin.ts';

const IMAGE = 'edgeos.test/busybox:podnet';
const NS = 'net';
const LAN_IP = '10.77.0.254';
const NODES = [
  { name: 'pn-1', ip: '10.77.0.1' },
  { name: 'pn-2', ip: '10.77.0.2' },
] as const;
const dir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-podnet-'));
const serverData = join(dir, 'server');
const kubeconfig = join(dir, 'kc.yaml');
const port = 20000 + Math.floor(Math.random() * 20000);

interface NodeUnderTest {
  readonly name: string;
  readonly ip: string;
  readonly data: string;
  ns: Netns;
  agent?: ChildProcess;
  out: string;
}

let lan: Netns;
let server: ChildProcess | undefined;
let serverOut = '';
let outside: ChildProcess | undefined;
const nodes: NodeUnderTest[] = NODES.map((n) => ({ ...n, data: join(dir, n.name), ns: undefined as unknown as Netns, out: '' }));

const context = () => nodes.map((n) => `${n.name} output:\n${n.out.slice(-2500)}`).join('\n') + `\nserver output:\n${serverOut.slice(-1500)}`;
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => waitForState(what, fn, timeoutMs, context);

function exec(argv: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
const run = (ns: Netns, argv: readonly string[], timeoutMs?: number) => exec([...ns.prefix, ...argv], timeoutMs);

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(lan.prefix[0]!, [...lan.prefix.slice(1), KUBECTL, `--kubeconfig=${kubeconfig}`, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    endStdin(child, input);
  });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${context()}`);
  return r.stdout;
}

function start(ns: Netns, args: string[], onOut: (s: string) => void): ChildProcess {
  const child = ns.spawn([process.execPath, join(REPO, 'src/cli/main.ts'), ...args], { ...process.env, EDGEOS_LOG_LEVEL: 'info' });
  child.stdout?.on('data', (b: Buffer) => onOut(b.toString()));
  child.stderr?.on('data', (b: Buffer) => onOut(b.toString()));
  return child;
}

/** By PID (nsenter execs the command, so the child's pid is edgeos itself); SIGKILL after 15 s. */
async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, signal);
  const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

const startAgent = (n: NodeUnderTest, args: string[]) => (n.agent = start(n.ns, args, (s) => (n.out += s)));
const backendOf = (n: NodeUnderTest) => (n.name === 'pn-1' ? ['--pod-network-backend', 'vxlan'] : []);

const inPod = (pod: string, script: string) => kubectl(['-n', NS, 'exec', pod, '--', 'sh', '-c', GET + script]);

const pod = (name: string, node: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: name } },
  spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', WEB] }] },
});

const podIp = async (name: string) => (await kubectl(['-n', NS, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).trim();
const nodeField = async (name: string, path: string) => (await kubectl(['get', 'node', name, '-o', `jsonpath=${path}`])).trim();

/** A veth from `ns` into the LAN bridge, with `ip` on the node's end and the LAN as default gateway. */
function plugIntoLan(ns: Netns, ip: string): void {
  const lanEnd = `l${ns.name.slice(-6)}`;
  execFileSync('ip', ['link', 'add', lanEnd, 'netns', lan.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
  lan.exec(['ip', 'link', 'set', lanEnd, 'master', 'br0', 'up']);
  ns.exec(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  ns.exec(['ip', 'link', 'set', 'eth0', 'up']);
  ns.exec(['ip', 'route', 'add', 'default', 'via', LAN_IP]);
}

beforeAll(async () => {
  lan = createNetns('pnlan');
  lan.exec(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  lan.exec(['ip', 'addr', 'add', `${LAN_IP}/24`, 'dev', 'br0']);
  lan.exec(['ip', 'link', 'set', 'br0', 'up']);
  for (const n of nodes) {
    n.ns = createNetns(n.name);
    plugIntoLan(n.ns, n.ip);
    mkdirSync(join(n.data, 'agent', 'images'), { recursive: true });
    writeBusyboxArchive(join(n.data, 'agent', 'images', 'busybox.tar'), IMAGE, ['sleep', '3600']);
  }
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${LAN_IP}\n`);
  // Outside the cluster: the LAN's own web server, answering with the address it sees.
  mkdirSync(join(dir, 'www', 'cgi-bin'), { recursive: true });
  writeFileSync(join(dir, 'www', 'cgi-bin', 'ip'), '#!/bin/sh\necho Content-Type: text/plain\necho\necho $REMOTE_ADDR\n', { mode: 0o755 });
  outside = lan.spawn(['busybox', 'httpd', '-f', '-p', `${LAN_IP}:8099`, '-h', join(dir, 'www')]);

  server = start(lan, ['server', '--data-dir', serverData, '--https-listen-port', String(port), '--advertise-address', LAN_IP, '--disable-agent', '--write-kubeconfig', kubeconfig], (s) => (serverOut += s));
  await waitFor('the server to be ready', async () => (await run(lan, [KUBECTL, `--kubeconfig=${kubeconfig}`, 'get', '--raw', '/readyz'])).stdout === 'ok', 90_000);
  const token = readFileSync(join(serverData, 'server', 'token'), 'utf8').trim();
  // pn-1 forces VXLAN (docs/podnet.md, "Native routing"); pn-2 (auto) would route pn-1 natively on
  // their shared LAN, but pn-1 answers no native probe, so the pair stays on VXLAN both ways.
  for (const n of nodes) startAgent(n, ['join', token, '--node-name', n.name, '--data-dir', n.data, '--resolv-conf', join(dir, 'resolv.conf'), ...backendOf(n)]);
  for (const n of nodes) {
    await waitFor(`${n.name} to be Ready`, async () => (await nodeField(n.name, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True', 120_000);
  }
  await kubectl(['create', 'namespace', NS]);
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('web-1', 'pn-1'), pod('web-2', 'pn-2')] }));
  await waitFor('the pods to run', async () => (await kubectl(['-n', NS, 'get', 'pods', '-o', 'jsonpath={.items[*].status.phase}'])).trim() === 'Running Running', 120_000);
}, 360_000);

afterAll(async () => {
  if (process.env.EDGEOS_TEST_KEEP_LOGS) writeFileSync(process.env.EDGEOS_TEST_KEEP_LOGS, context());
  for (const n of nodes) await stop(n.agent);
  await stop(server);
  await stop(outside, 'SIGKILL');
  for (const n of nodes) {
    if (!n.ns) continue;
    // The agent left its pods running (by design): a containerd of our own, inside the node's
    // namespace, removes them through CRI.
    await run(n.ns, [process.execPath, '--input-type=module', '-e', `const m = await import(${JSON.stringify(join(REPO, 'test/e2e/helpers.ts'))}); await m.removePodsOfStoppedAgent(${JSON.stringify(n.data)});`], 120_000);
    releasePodCidrClaim(n.data, n.ns.name);
    // Its bridge, VXLAN device and nftables tables go with the namespace.
    n.ns.remove();
    removeDataDir(n.data);
  }
  lan?.remove();
  rmSync(dir, { recursive: true, force: true });
}, 240_000);

describe('one pod network across nodes', () => {
  it('gives every node its own pod CIDR from the cluster CIDR, and its pods addresses from it', async () => {
    const cidrs = await Promise.all(nodes.map((n) => nodeField(n.name, '{.spec.podCIDR}')));
    expect(new Set(cidrs).size).toBe(2);
    for (const c of cidrs) expect(c).toMatch(/^10\.42\.\d+\.0\/24$/);
    for (const [i, n] of nodes.entries()) {
      expect(await nodeField(n.name, '{.spec.podCIDRs[0]}')).toBe(cidrs[i]);
      expect(await nodeField(n.name, '{.metadata.annotations.network\\.edgeos\\.io/vtep-ip}')).toBe(n.ip);
      const ip = await podIp(`web-${i + 1}`);
      expect(ip.startsWith(cidrs[i]!.replace(/0\/24$/, ''))).toBe(true);
    }
  });

  it('carries pod-to-pod traffic across nodes over VXLAN, with the pods\' own addresses and an MTU that leaves room for the headers', async () => {
    const [ip1, ip2] = [await podIp('web-1'), await podIp('web-2')];
    const fromOne = await waitFor('web-2 from web-1', async () => {
      const r = await inPod('web-1', `get ${ip2} / && get ${ip2} /cgi-bin/ip`);
      return r.trim().split('\n').length === 2 ? r.trim().split('\n') : undefined;
    }, 30_000);
    expect([fromOne[0], v4(fromOne[1]!)]).toEqual(['web-2', ip1]);
    expect(v4(await inPod('web-2', `get ${ip1} /cgi-bin/ip`))).toBe(ip2);
    // Full-size segments cross without fragmentation trouble.
    expect((await inPod('web-1', `get ${ip2} /big | wc -c`)).trim()).toBe(String(256 * 1024));
    expect((await inPod('web-1', 'cat /sys/class/net/eth0/mtu')).trim()).toBe('1450');
    // The path is the VXLAN device: routes and permanent neighbour/forwarding entries per peer.
    const cidr2 = await nodeField('pn-2', '{.spec.podCIDR}');
    const routes = nodes[0]!.ns.exec(['ip', '-j', 'route', 'show', cidr2]);
    const [route] = JSON.parse(routes) as { dev: string; gateway: string }[];
    expect(route!.dev).toMatch(/^eosv[0-9a-f]{8}$/);
    const vxlan = JSON.parse(nodes[0]!.ns.exec(['ip', '-j', '-d', 'link', 'show', 'dev', route!.dev])) as { mtu: number; linkinfo: { info_kind: string; info_data: { id: number; local: string; port: number } } }[];
    expect(vxlan[0]!.linkinfo.info_kind).toBe('vxlan');
    expect(vxlan[0]!.linkinfo.info_data).toMatchObject({ id: 1, local: '10.77.0.1', port: 8472 });
    expect(vxlan[0]!.mtu).toBe(1450);
    expect(nodes[0]!.ns.exec(['bridge', 'fdb', 'show', 'dev', route!.dev])).toContain('dst 10.77.0.2 self permanent');
    // pn-1 (--pod-network-backend vxlan) routes nothing natively; pn-2 (auto) has the native probe's
    // route to pn-1's overlay address, but no answer, so pn-1's pod CIDR stays on VXLAN.
    expect(nodes[0]!.ns.exec(['ip', 'route', 'show', 'proto', '75']).trim()).toBe('');
    const cidr1 = await nodeField('pn-1', '{.spec.podCIDR}');
    expect(nodes[1]!.ns.exec(['ip', 'route', 'show', 'proto', '75'])).toContain(`${cidr1.replace(/\/24$/, '')} via 10.77.0.1 dev eth0`);
    await new Promise((r) => setTimeout(r, 1500));
    const [back] = JSON.parse(nodes[1]!.ns.exec(['ip', '-j', 'route', 'show', cidr1])) as { dev: string }[];
    expect(back!.dev).toMatch(/^eosv[0-9a-f]{8}$/);
  });

  it('masquerades only traffic leaving the cluster CIDR', async () => {
    expect((await inPod('web-1', `get ${LAN_IP} /cgi-bin/ip 8099`)).trim()).toBe('10.77.0.1');
    expect((await inPod('web-2', `get ${LAN_IP} /cgi-bin/ip 8099`)).trim()).toBe('10.77.0.2');
  });

  it('reaches a Service whose only endpoint is on the other node, by name and ClusterIP', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'two', namespace: NS }, spec: { selector: { app: 'web-2' }, ports: [{ port: 80, targetPort: 8080 }] } }));
    const got = await waitFor('the Service from the other node', async () => {
      const r = (await inPod('web-1', 'get two.net.svc.cluster.local / 80')).trim();
      return r || undefined;
    }, 60_000);
    expect(got).toBe('web-2');
    // The endpoint sees the client pod's own address (DNAT on the client's node, no masquerade).
    expect(v4(await inPod('web-1', 'get two /cgi-bin/ip 80'))).toBe(await podIp('web-1'));
  });

  it('keeps pods talking across nodes with the server down, and an agent restarted then keeps its pod CIDR and pod addresses', async () => {
    const [ip1, ip2] = [await podIp('web-1'), await podIp('web-2')];
    const cidr1 = await nodeField('pn-1', '{.spec.podCIDR}');
    await stop(server, 'SIGKILL');
    expect((await inPodNetns(ip1, `get ${ip2} /`)).trim()).toBe('web-2');
    const n1 = nodes[0]!;
    const from = n1.out.length;
    await stop(n1.agent);
    // Offline reboot of the agent: pods stay, so does the overlay; the CIDR comes from the cache.
    startAgent(n1, ['agent', '--data-dir', n1.data, '--resolv-conf', join(dir, 'resolv.conf'), ...backendOf(n1)]);
    await waitFor('the restarted agent\'s kubelet', async () => n1.out.slice(from).includes('kubelet ready'), 90_000);
    expect(n1.out.slice(from)).toContain(`"podCidr":"${cidr1}"`);
    expect(n1.out.slice(from)).not.toContain('waiting for the server to assign');
    const restarted = await waitFor('traffic to the restarted node\'s pod', async () => (await inPodNetns(ip2, `get ${ip1} /`)).trim() || undefined, 30_000);
    expect(restarted).toBe('web-1');
    expect(v4(await inPodNetns(ip1, `get ${ip2} /cgi-bin/ip`))).toBe(ip1);
    // Each key once per line in everything the agents logged (the pod network's lines included).
    for (const n of nodes) expect(linesWithDuplicateKeys(n.out)).toEqual([]);
  }, 180_000);
});

/**
 * With the server down there is no `kubectl exec`: run the host's busybox in the network
 * namespace of the pod that has `ip` (CNI's /var/run/netns/cni-…), which is all a network check needs.
 * Only among the namespaces of this test's nodes' pods: other agents on the host have pods with
 * the same addresses (10.42.0.x is every single-node test's).
 */
async function inPodNetns(ip: string, script: string): Promise<string> {
  for (const n of nodes) {
    const ids = n.ns.exec(['ip', 'netns', 'list-id']);
    for (const m of ids.matchAll(/iproute2 netns name: (cni-[\w-]+)/g)) {
      const name = m[1]!;
      if (!readdirSync('/var/run/netns').includes(name)) continue;
      const r = await exec(['ip', '-n', name, '-j', '-4', 'addr', 'show']);
      if (!r.stdout.includes(`"${ip}"`)) continue;
      return (await exec(['nsenter', `--net=/var/run/netns/${name}`, 'busybox', 'sh', '-c', GET + script])).stdout;
    }
  }
  throw new Error(`no pod network namespace of this test's nodes has ${ip}`);
}
