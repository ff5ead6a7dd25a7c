/**
 * The agent's cluster DNS on loopback, asked by Node's c-ares resolver (an independent client)
 * and by raw packets: the records of the Kubernetes DNS specification from a real AgentCache,
 * case-insensitive names, ExternalName chased inside and outside the zone, forwarding to a real
 * dnsmasq upstream with a cache that outlives it, fail-fast without upstream, FORMERR for
 * malformed queries, truncation over UDP and the full answer over TCP.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import { createDnsServer } from '../../../src/agent/dns/dns-server.ts';
import type { DnsServer } from '../../../src/agent/dns/dns-server.ts';
import { TYPE, encodeQuery, keptCopy } from '../../../src/agent/dns/wire.ts';
import { createServiceCatalog } from '../../../src/agent/services/catalog.ts';
import type { ServiceCatalog } from '../../../src/agent/services/catalog.ts';
import type { AgentCache } from '../../../src/agent/types.ts';
import { silentLogger } from '../../../src/common/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'eos-dns-'));
// dnsmasq, the upstream, listens on port 53 of a loopback address of this test's own.
const UPSTREAM = `127.53.${Math.floor(Math.random() * 200) + 1}.1`;
let upstream: ChildProcess | undefined;
let cache: AgentCache;
let catalog: ServiceCatalog;
let dns: DnsServer;
let offline: DnsServer;
const resolver = new Resolver({ timeout: 3000, tries: 1 });

const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec });
const slice = (svcName: string, endpoints: unknown[], ports: unknown[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svcName}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': svcName } }, addressType: 'IPv4', endpoints, ports,
});

function startUpstream(): Promise<ChildProcess> {
  const child = spawn('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${UPSTREAM}`, '--port=53', '--address=/upstream.test/192.0.2.77', '--address=/www.example.test/192.0.2.80', '--local-ttl=60', '--log-facility=-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(child), 500); // dnsmasq prints nothing once it listens
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`dnsmasq exited with ${code}`));
    });
  });
}

/** A raw UDP exchange: the response bytes. */
function udpExchange(port: number, msg: Buffer): Promise<Buffer | undefined> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, 1500);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpExchange(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const head = Buffer.alloc(2);
    head.writeUInt16BE(msg.length);
    let got = Buffer.alloc(0);
    sock.on('connect', () => sock.write(Buffer.concat([head, msg])));
    sock.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        sock.destroy();
        resolve(got.subarray(2));
      }
    });
    sock.on('error', reject);
  });
}

const rcodeOf = (b: Buffer) => b.readUInt16BE(2) & 0xf;
const answerCount = (b: Buffer) => b.readUInt16BE(6);

beforeAll(async () => {
  upstream = await startUpstream();
  writeFileSync(join(dir, 'resolv.conf'), `# test upstream\nnameserver ${UPSTREAM}\n`);
  writeFileSync(join(dir, 'none.conf'), '# an air-gapped host: no nameserver\n');
  cache = await openAgentCache({ file: join(dir, 'cache.db'), log: silentLogger() });
  await cache.put('Service', svc('web', { type: 'ClusterIP', clusterIP: '10.43.7.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }] }));
  await cache.put('Service', svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
  await cache.put('EndpointSlice', slice('db', [
    { addresses: ['10.42.0.11'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.42.0.12'], conditions: { ready: true } },
    { addresses: ['10.42.0.13'], hostname: 'db-2', conditions: { ready: false } },
  ], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  await cache.put('Service', svc('alias', { type: 'ExternalName', externalName: 'web.shop.svc.cluster.local' }));
  await cache.put('Service', svc('outside', { type: 'ExternalName', externalName: 'www.example.test' }));
  const many = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.42.1.${i + 1}`], conditions: { ready: true } }));
  await cache.put('Service', svc('big', { clusterIP: 'None', ports: [{ name: 'x', port: 1, protocol: 'TCP' }] }));
  await cache.put('EndpointSlice', slice('big', many, [{ name: 'x', port: 1, protocol: 'TCP' }]));
  catalog = createServiceCatalog(cache);
  await catalog.start();
  dns = createDnsServer({ address: '127.0.0.1', port: 0, zone: 'cluster.local', catalog, resolvConf: join(dir, 'resolv.conf'), log: silentLogger() });
  await dns.start(new AbortController().signal);
  offline = createDnsServer({ address: '127.0.0.1', port: 0, zone: 'cluster.local', catalog, resolvConf: join(dir, 'none.conf'), log: silentLogger() });
  await offline.start(new AbortController().signal);
  resolver.setServers([`127.0.0.1:${dns.port}`]);
}, 30_000);

afterAll(async () => {
  await dns?.stop();
  await offline?.stop();
  catalog?.stop();
  await cache?.close();
  upstream?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster DNS', () => {
  it('answers A, SRV and PTR for a ClusterIP Service, case-insensitively', async () => {
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual(['10.43.7.7']);
    expect(await resolver.resolve4('WEB.Shop.SVC.Cluster.Local')).toEqual(['10.43.7.7']);
    expect(await resolver.resolveSrv('_http._tcp.web.shop.svc.cluster.local')).toMatchObject([{ name: 'web.shop.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
    expect(await resolver.reverse('10.43.7.7')).toEqual(['web.shop.svc.cluster.local']);
    // An IPv4 Service has no AAAA (NODATA), an unknown name does not exist (NXDOMAIN).
    await expect(resolver.resolve6('web.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('nope.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await resolver.resolveTxt('dns-version.cluster.local')).toEqual([['1.0.1']]);
    expect(await resolver.resolve4('10-42-0-99.shop.pod.cluster.local')).toEqual(['10.42.0.99']);
  });

  it('answers a headless Service with its ready endpoints, hostnames, SRV and PTR', async () => {
    expect((await resolver.resolve4('db.shop.svc.cluster.local')).sort()).toEqual(['10.42.0.11', '10.42.0.12']);
    expect(await resolver.resolve4('db-0.db.shop.svc.cluster.local')).toEqual(['10.42.0.11']);
    await expect(resolver.resolve4('db-2.db.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const srv = await resolver.resolveSrv('_pg._tcp.db.shop.svc.cluster.local');
    expect(srv.map((s) => `${s.name}:${s.port}`).sort()).toEqual(['10-42-0-12.db.shop.svc.cluster.local:5432', 'db-0.db.shop.svc.cluster.local:5432']);
    expect(await resolver.reverse('10.42.0.11')).toEqual(['db-0.db.shop.svc.cluster.local']);
  });

  it('follows the cache: an endpoint change is answered at once', async () => {
    await cache.put('EndpointSlice', slice('db', [{ addresses: ['10.42.0.14'], hostname: 'db-0', conditions: { ready: true } }], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
    for (let i = 0; i < 50; i++) {
      if ((await resolver.resolve4('db.shop.svc.cluster.local')).join() === '10.42.0.14') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await resolver.resolve4('db.shop.svc.cluster.local')).toEqual(['10.42.0.14']);
  });

  it('answers ExternalName with a CNAME and its target, in the zone or upstream', async () => {
    expect(await resolver.resolveCname('alias.shop.svc.cluster.local')).toEqual(['web.shop.svc.cluster.local']);
    expect(await resolver.resolve4('alias.shop.svc.cluster.local')).toEqual(['10.43.7.7']);
    expect(await resolver.resolve4('outside.shop.svc.cluster.local')).toEqual(['192.0.2.80']);
  });

  it('forwards other names to the host resolvers and keeps answers when the upstream goes', async () => {
    expect(await resolver.resolve4('upstream.test')).toEqual(['192.0.2.77']);
    upstream?.kill('SIGKILL');
    upstream = undefined;
    expect(await resolver.resolve4('upstream.test')).toEqual(['192.0.2.77']);
    expect(dns.stats.forwarded).toBeGreaterThan(0);
  });

  it('fails fast without an upstream, and keeps answering the zone', async () => {
    const off = new Resolver({ timeout: 3000, tries: 1 });
    off.setServers([`127.0.0.1:${offline.port}`]);
    const t0 = performance.now();
    await expect(off.resolve4('example.org')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await off.resolve4('web.shop.svc.cluster.local')).toEqual(['10.43.7.7']);
  });

  it('answers malformed queries with FORMERR, drops what has no header, and keeps serving', async () => {
    const twoQuestions = encodeQuery(0x1234, 'web.shop.svc.cluster.local', TYPE.A);
    twoQuestions.writeUInt16BE(2, 4);
    const r1 = await udpExchange(dns.port, twoQuestions);
    expect(r1 && [r1.readUInt16BE(0), rcodeOf(r1)]).toEqual([0x1234, 1]);
    const loop = Buffer.concat([Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    const r2 = await udpExchange(dns.port, loop);
    expect(r2 && [r2.readUInt16BE(0), rcodeOf(r2)]).toEqual([0xabcd, 1]);
    const cut = encodeQuery(0x4321, 'web.shop.svc.cluster.local', TYPE.A).subarray(0, 20);
    expect(rcodeOf((await udpExchange(dns.port, cut))!)).toBe(1);
    expect(await udpExchange(dns.port, Buffer.from([1, 2, 3]))).toBeUndefined();
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual(['10.43.7.7']);
  });

  it('answers a repeated question from its encoded answer, under the new id, until the zone changes', async () => {
    const first = (await udpExchange(dns.port, encodeQuery(0x0101, 'db.shop.svc.cluster.local', TYPE.A)))!;
    const zone = dns.stats.zone;
    const again = (await udpExchange(dns.port, encodeQuery(0xbeef, 'db.shop.svc.cluster.local', TYPE.A)))!;
    expect(dns.stats.zone).toBe(zone + 1);
    expect(again.readUInt16BE(0)).toBe(0xbeef);
    expect(again.subarray(2)).toEqual(first.subarray(2));
    await cache.put('EndpointSlice', slice('db', [{ addresses: ['10.42.0.15'], hostname: 'db-0', conditions: { ready: true } }], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
    for (let i = 0; i < 50 && (await resolver.resolve4('db.shop.svc.cluster.local')).join() !== '10.42.0.15'; i++) await new Promise((r) => setTimeout(r, 20));
    const changed = (await udpExchange(dns.port, encodeQuery(0xbeef, 'db.shop.svc.cluster.local', TYPE.A)))!;
    expect(changed.readUInt16BE(0)).toBe(0xbeef);
    expect(changed.includes(Buffer.from([10, 42, 0, 15]))).toBe(true);
    expect(changed.includes(Buffer.from([10, 42, 0, 14]))).toBe(false);
  });

  it('answers a burst of the same question with each query\'s own id (the cached bytes carry one id at a time)', async () => {
    const first = (await udpExchange(dns.port, encodeQuery(1, 'web.shop.svc.cluster.local', TYPE.A)))!;
    const s = createSocket('udp4');
    const got: Buffer[] = [];
    s.on('message', (m) => got.push(m));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    // Bursts of 100 sent in one go: the server's replies come faster than this test reads them,
    // and some may wait in its socket's send queue (the path that must not share the cached bytes).
    for (let burst = 0; burst < 10; burst++) {
      for (let id = burst * 100 + 1; id <= burst * 100 + 100; id++) s.send(encodeQuery(id, 'web.shop.svc.cluster.local', TYPE.A), dns.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
    s.close();
    // UDP may drop some under such a burst; every answer that came is whole and answers one
    // query of its own: an answer that went out with a later query's id would repeat that id.
    expect(got.length).toBeGreaterThan(500);
    const ids = got.map((m) => m.readUInt16BE(0));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id >= 1 && id <= 1000)).toBe(true);
    for (const m of got) expect(m.subarray(2)).toEqual(first.subarray(2));
  });

  it('keeps cached answers in buffers of their own size, not in slices of the shared pool', () => {
    // What Buffer.from does with a small buffer: a slice of an 8 KB slab, which a cache entry would
    // keep alive whole (bench/services/dns-memory.ts).
    const pooled = Buffer.from(encodeQuery(1, 'web.default.svc.cluster.local', TYPE.A));
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const kept = keptCopy(pooled);
    expect(kept.equals(pooled)).toBe(true);
    expect(kept.buffer.byteLength).toBe(kept.length);
  });

  it('truncates a large answer over UDP and gives it whole over TCP', async () => {
    const q = encodeQuery(7, 'big.shop.svc.cluster.local', TYPE.A);
    const udp = (await udpExchange(dns.port, q))!;
    expect(udp.readUInt16BE(2) & 0x0200).toBe(0x0200);
    expect(answerCount(udp)).toBe(0);
    expect(udp.length).toBeLessThanOrEqual(512);
    const tcp = await tcpExchange(dns.port, q);
    expect(tcp.readUInt16BE(2) & 0x0200).toBe(0);
    expect(answerCount(tcp)).toBe(60);
    // c-ares retries over TCP by itself on TC.
    expect((await resolver.resolve4('big.shop.svc.cluster.local')).length).toBe(60);
  });
});
