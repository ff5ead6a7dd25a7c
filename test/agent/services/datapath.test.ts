/**
 * The Service datapath on a real kernel, without containerd: network namespaces of the test's own
 * stand for the node (a bridge, as the CNI makes one), two pods on it and a client outside the
 * pod network. The agent's ServiceProxy programs the node namespace's nftables from a real
 * AgentCache; connections from the node, from a pod and from the client show ClusterIP, NodePort,
 * external IPs, random choice, ClientIP affinity, hairpin, masquerade (and its absence with
 * externalTrafficPolicy Local), instant rejection without endpoints, the unused-ClusterIP
 * rejection, a refused ruleset keeping the last good one, and stop removing everything.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import { NftApplier } from '../../../src/agent/services/applier.ts';
import { createServiceCatalog } from '../../../src/agent/services/catalog.ts';
import { renderRuleset } from '../../../src/agent/services/render.ts';
import { createServiceProxy } from '../../../src/agent/services/service-proxy.ts';
import type { ServiceProxy } from '../../../src/agent/services/service-proxy.ts';
import { nftRunner } from '../../../src/agent/services/tools.ts';
import type { AgentCache } from '../../../src/agent/types.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { createNetns, linkNetns } from '../../helpers/netns.ts';
import type { Netns } from '../../helpers/netns.ts';

const settings = { table: 'edgeos-test', serviceCidr: '10.96.0.0/16', clusterDns: '10.96.0.10', podCidr: '10.99.1.0/24' };
const dir = mkdtempSync(join(tmpdir(), 'eos-datapath-'));
const nsList: Netns[] = [];
const servers: ChildProcess[] = [];
let node: Netns;
let podA: Netns;
let podB: Netns;
let client: Netns;
let cache: AgentCache;
let proxy: ServiceProxy;
const refusals: string[] = [];
let synced = 0;

/** Echo servers: TCP answers "<name> <remote address>", UDP answers "<name>". */
const SERVER = `
const net = require('node:net'); const dgram = require('node:dgram'); const name = process.argv[1];
net.createServer((s) => { s.end(name + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n'); s.on('error', () => {}); }).listen(8080, () => console.log('up'));
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(name, r.port, r.address)); u.bind(5353);
`;

/** Dials `host:port` `n` times from inside `ns`; prints one line per try: the answer or the error code. */
const CLIENT = `
const net = require('node:net'); const [host, port, n] = process.argv.slice(1);
(async () => { for (let i = 0; i < Number(n); i++) { console.log(await new Promise((res) => {
  const s = net.connect({ host, port: Number(port), timeout: 3000 }); let d = '';
  s.on('data', (b) => (d += b)); s.on('end', () => res(d.trim())); s.on('timeout', () => { s.destroy(); res('TIMEOUT'); });
  s.on('error', (e) => res(e.code)); })); } })();
`;

/** Sends one UDP datagram from a fixed source port (the same flow every time); prints the answer. */
const UDP_CLIENT = `
const s = require('node:dgram').createSocket('udp4'); const [host, port] = process.argv.slice(1);
s.on('message', (m) => { console.log(String(m)); process.exit(0); }); setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 2000);
s.bind(40053, () => s.send('hi', Number(port), host));
`;
const udpAsk = (ns: Netns, host: string, port: number) => ns.exec([process.execPath, '-e', UDP_CLIENT, host, String(port)]).trim();

function dial(ns: Netns, host: string, port: number, n = 1): string[] {
  return ns.exec([process.execPath, '-e', CLIENT, host, String(port), String(n)]).trim().split('\n');
}

function startServer(ns: Netns, name: string): Promise<void> {
  const child = ns.spawn([process.execPath, '-e', SERVER, name]);
  servers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`server ${name} exited with ${code}`)));
  });
}

const service = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { type: 'ClusterIP', ...spec }, status,
});
const ep = (ip: string, local = true, ready = true) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false }, ...(local ? { nodeName: 'n1' } : {}) });
const slice = (svc: string, endpoints: unknown[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svc}-x`, namespace: 'shop', labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', endpoints, ports,
});

async function settle(): Promise<void> {
  const before = synced;
  for (let i = 0; i < 100 && synced === before; i++) await new Promise((r) => setTimeout(r, 20));
}

beforeAll(async () => {
  node = createNetns('node');
  podA = createNetns('poda');
  podB = createNetns('podb');
  client = createNetns('client');
  nsList.push(node, podA, podB, client);
  node.exec(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  node.exec(['ip', 'addr', 'add', '10.99.1.1/24', 'dev', 'br0']);
  node.exec(['ip', 'link', 'set', 'br0', 'up']);
  node.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  for (const [pod, ip] of [[podA, '10.99.1.2'], [podB, '10.99.1.3']] as const) {
    linkNetns(pod, ip, node, `10.99.1.${ip === '10.99.1.2' ? 200 : 201}`);
    // Move the node end onto the bridge, as the CNI bridge plugin does with a pod's veth.
    const nodeEnd = node.exec(['ip', '-o', 'addr', 'show', 'to', `10.99.1.${ip === '10.99.1.2' ? 200 : 201}`]).split(' ')[1]!;
    node.exec(['ip', 'addr', 'flush', 'dev', nodeEnd]);
    node.exec(['ip', 'link', 'set', nodeEnd, 'master', 'br0']);
    node.exec(['bridge', 'link', 'set', 'dev', nodeEnd, 'hairpin', 'on']);
    pod.exec(['ip', 'route', 'add', 'default', 'via', '10.99.1.1']);
  }
  linkNetns(client, '10.97.0.2', node, '10.97.0.1');
  client.exec(['ip', 'route', 'add', 'default', 'via', '10.97.0.1']);
  await Promise.all([startServer(podA, 'pod-a'), startServer(podB, 'pod-b')]);

  cache = await openAgentCache({ file: join(dir, 'cache.db'), log: silentLogger() });
  await cache.put('Service', service('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] }));
  await cache.put('EndpointSlice', slice('web', [ep('10.99.1.2'), ep('10.99.1.3')]));
  const catalog = createServiceCatalog(cache);
  await catalog.start();
  proxy = createServiceProxy({
    nodeName: 'n1', catalog, settings, iface: 'eosdtest', log: silentLogger(), toolPrefix: node.prefix,
    onRefused: (svc, msg) => refusals.push(`${svc}: ${msg}`),
    onSynced: () => synced++,
  });
  await proxy.start(new AbortController().signal);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await cache?.close();
  for (const s of servers) s.kill('SIGKILL');
  for (const ns of nsList) ns.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('Service datapath (nftables in network namespaces)', () => {
  it('routes a ClusterIP from the node to both endpoints at random, the node unmasqueraded', async () => {
    const answers = dial(node, '10.96.0.20', 80, 30);
    expect(new Set(answers.map((a) => a.split(' ')[0]))).toEqual(new Set(['pod-a', 'pod-b']));
    // The node's own connection to a local endpoint keeps its source (the Service CIDR route's,
    // the cluster DNS address): no source NAT, so no rewritten port (docs/services.md, "Masquerade").
    expect(answers.every((a) => a.endsWith(' 10.96.0.10'))).toBe(true);
    // The table carries the verdict maps and the DNS address is the node's own.
    const table = node.exec(['nft', 'list', 'table', 'ip', settings.table]);
    expect(table).toContain('ip daddr . meta l4proto . th dport vmap @services');
    expect(table).toContain('numgen random mod 2');
    expect(node.exec(['ip', '-o', 'addr', 'show', 'dev', 'eosdtest'])).toContain('10.96.0.10/32');
  });

  it('lets a pod reach itself through its Service (hairpin) and others without masquerade', async () => {
    const fromA = dial(podA, '10.96.0.20', 80, 20);
    for (const a of fromA) {
      const [who, source] = a.split(' ');
      // Reaching itself it sees the bridge address (masqueraded), reaching the other pod its own.
      expect(source).toBe(who === 'pod-a' ? '10.99.1.1' : '10.99.1.2');
    }
    expect(new Set(fromA.map((a) => a.split(' ')[0])).size).toBe(2);
  });

  it('masquerades the node dialling an endpoint on another node (its source is on every node)', async () => {
    await cache.put('Service', service('far', { clusterIP: '10.96.0.26', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] }));
    await cache.put('EndpointSlice', slice('far', [ep('10.99.1.3', false)]));
    await settle();
    expect(dial(node, '10.96.0.26', 80, 3)).toEqual(Array(3).fill('pod-b 10.99.1.1'));
    // A pod still reaches it with its own address.
    expect(dial(podA, '10.96.0.26', 80)).toEqual(['pod-b 10.99.1.2']);
  });

  it('rejects at once a Service without endpoints, a missing port and an unused ClusterIP', async () => {
    await cache.put('Service', service('empty', { clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
    await settle();
    const t0 = performance.now();
    expect(dial(podA, '10.96.0.21', 80)).toEqual(['ECONNREFUSED']);
    expect(dial(node, '10.96.0.21', 80)).toEqual(['ECONNREFUSED']);
    expect(dial(node, '10.96.0.20', 81)).toEqual(['ECONNREFUSED']);
    expect(dial(podA, '10.96.0.99', 80)).toEqual(['ECONNREFUSED']);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('keeps a client on one endpoint with ClientIP affinity', async () => {
    await cache.put('Service', service('sticky', { clusterIP: '10.96.0.22', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
    await cache.put('EndpointSlice', slice('sticky', [ep('10.99.1.2'), ep('10.99.1.3')]));
    await settle();
    const answers = dial(client, '10.96.0.22', 80, 1);
    expect(answers[0]).toMatch(/^pod-/);
    // From another host: masqueraded to the node's bridge address, so the answer comes back here.
    expect(answers[0]).toMatch(/ 10\.99\.1\.1$/);
    // The client has no route to the Service CIDR of its own: it goes through the node (default route).
    expect(new Set(dial(client, '10.96.0.22', 80, 15).map((a) => a.split(' ')[0]))).toEqual(new Set([answers[0]!.split(' ')[0]]));
  });

  it('serves NodePorts and external IPs from outside, masqueraded, or keeping the source with externalTrafficPolicy Local', async () => {
    await cache.put('Service', service('open', { type: 'NodePort', clusterIP: '10.96.0.23', externalIPs: ['10.97.0.1'], ports: [{ name: 'http', port: 8081, protocol: 'TCP', nodePort: 30081 }] }));
    await cache.put('EndpointSlice', slice('open', [ep('10.99.1.2')]));
    await cache.put('Service', service('local', { type: 'LoadBalancer', clusterIP: '10.96.0.24', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 8082, protocol: 'TCP', nodePort: 30082 }] }, { loadBalancer: { ingress: [{ ip: '10.97.0.1' }] } }));
    await cache.put('EndpointSlice', slice('local', [ep('10.99.1.3'), ep('10.99.1.2', false)]));
    await settle();
    expect(dial(client, '10.97.0.1', 30081)).toEqual(['pod-a 10.99.1.1']);
    expect(dial(client, '10.97.0.1', 8081)).toEqual(['pod-a 10.99.1.1']);
    // Local: only the endpoint on this node, and it sees the client's own address.
    expect(dial(client, '10.97.0.1', 30082, 5)).toEqual(Array(5).fill('pod-b 10.97.0.2'));
    expect(dial(client, '10.97.0.1', 8082)).toEqual(['pod-b 10.97.0.2']);
    // From the node itself, the NodePort works too.
    expect(dial(node, '10.97.0.1', 30081)[0]).toMatch(/^pod-a /);
  });

  it('follows the kubelet: a local pod that turns unready leaves, and comes back', async () => {
    await cache.put('EndpointSlice', slice('open', [{ ...ep('10.99.1.2'), targetRef: { kind: 'Pod', uid: 'uid-a' } }, { ...ep('10.99.1.3'), targetRef: { kind: 'Pod', uid: 'uid-b' } }]));
    await settle();
    proxy.podStatus('uid-a', { podIP: '10.99.1.2', conditions: [{ type: 'Ready', status: 'False' }] });
    await settle();
    expect(new Set(dial(node, '10.96.0.23', 8081, 10).map((a) => a.split(' ')[0]))).toEqual(new Set(['pod-b']));
    proxy.podStatus('uid-a', { podIP: '10.99.1.2', conditions: [{ type: 'Ready', status: 'True' }] });
    await settle();
    expect(new Set(dial(node, '10.96.0.23', 8081, 20).map((a) => a.split(' ')[0]))).toEqual(new Set(['pod-a', 'pod-b']));
  });

  it('flushes the UDP flows of an endpoint that leaves', async () => {
    const udpSlice = (ip: string) => slice('dns', [ep(ip)], [{ name: 'dns', port: 5353, protocol: 'UDP' }]);
    await cache.put('Service', service('dns', { clusterIP: '10.96.0.25', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
    await cache.put('EndpointSlice', udpSlice('10.99.1.2'));
    await settle();
    expect(udpAsk(node, '10.96.0.25', 53)).toBe('pod-a');
    // The same flow (same source port) again, after its endpoint changed: without the flush its
    // conntrack entry would keep sending it to pod-a for the UDP timeout.
    await cache.put('EndpointSlice', udpSlice('10.99.1.3'));
    await settle();
    expect(udpAsk(node, '10.96.0.25', 53)).toBe('pod-b');
  });

  it('keeps the last good rules of a Service port the kernel refuses, and applies the rest', async () => {
    const applier = new NftApplier('edgeos-refusal', nftRunner(node.prefix));
    const plans = [
      { id: 'shop/good/tcp/http', service: 'shop/good', protocol: 'tcp' as const, clusterIP: '10.96.0.30', port: 80, nodePort: undefined, externalIPs: [], affinitySeconds: undefined, clusterEndpoints: [{ ip: '10.99.1.2', port: 8080, local: true }], externalLocal: false, localEndpoints: [] },
      { id: 'shop/bad/tcp/http', service: 'shop/bad', protocol: 'tcp' as const, clusterIP: '10.96.0.31', port: 80, nodePort: undefined, externalIPs: [], affinitySeconds: undefined, clusterEndpoints: [{ ip: '10.99.1.3', port: 8080, local: true }], externalLocal: false, localEndpoints: [] },
    ];
    try {
      expect(await applier.apply(renderRuleset(plans, { ...settings, table: 'edgeos-refusal' }))).toEqual([]);
      // A fragment the kernel will not take (a rule naming a set that does not exist), beside a good change.
      const next = renderRuleset([{ ...plans[0]!, port: 81 }, plans[1]!], { ...settings, table: 'edgeos-refusal' });
      const bad = next.ports.get('shop/bad/tcp/http')!;
      const [chain, c] = [...bad.chains].find(([n]) => n.startsWith('svc-'))!;
      const broken = { ...next, ports: new Map(next.ports).set('shop/bad/tcp/http', { ...bad, chains: new Map(bad.chains).set(chain, { rules: ['ip saddr @no-such-set accept', ...c.rules] }) }) };
      const refused = await applier.apply(broken);
      expect(refused.map((r) => r.id)).toEqual(['shop/bad/tcp/http']);
      expect(refused[0]!.message).toContain('no-such-set');
      const table = node.exec(['nft', 'list', 'table', 'ip', 'edgeos-refusal']);
      expect(table).toContain('10.96.0.30 . tcp . 81'); // the good change is in
      expect(table).toContain('10.96.0.31 . tcp . 80'); // the refused Service keeps its last good rules
      expect(table).not.toContain('no-such-set');
      // Unchanged, the refused fragment is not offered again.
      expect(await applier.apply(broken)).toEqual([]);
    } finally {
      await applier.remove();
    }
  });

  it('stop removes the table and the node-local address', async () => {
    const tables = () => node.exec(['nft', 'list', 'tables']);
    expect(tables()).toContain(settings.table);
    await proxy.stop();
    expect(tables()).not.toContain(settings.table);
    expect(node.exec(['ip', '-o', 'link'])).not.toContain('eosdtest');
    expect(refusals).toEqual([]);
  });
});
