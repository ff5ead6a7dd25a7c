// Pure parts of joining: the token format, flag resolution (errors name the flag), TTLs, backoff.
import { describe, expect, it } from 'vitest';
import { resolveAgentConfig } from '../../src/agent/join/agent-config.ts';
import { reconnectDelay } from '../../src/agent/link/backoff.ts';
import { renewalDue } from '../../src/agent/link/cert-renewal.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/common/link/join-token.ts';
import { parseTtl } from '../../src/cli/token-command.ts';
import { advertisedHosts, advertisedUrls } from '../../src/server/join/index.ts';
import { servingSans } from '../../src/server/pki/index.ts';

const token = { servers: ['https://10.0.0.1:6443'], caHash: 'sha256:' + 'ab'.repeat(32), tokenId: 'abcdef', tokenSecret: '0123456789abcdef' };

describe('join token', () => {
  it('round-trips and is versioned', () => {
    const s = encodeJoinToken(token);
    expect(s.startsWith('edgeos1.')).toBe(true);
    expect(decodeJoinToken(s)).toEqual(token);
  });

  it.each([
    ['', /must start with "edgeos1."/],
    ['edgeos1.!!!', /truncated or damaged/],
    [encodeJoinToken({ ...token, servers: ['http://plain'] }), /no https server URL/],
    [encodeJoinToken({ ...token, caHash: 'md5:00' }), /no sha256 CA hash/],
    [encodeJoinToken({ ...token, tokenSecret: 'SHORT' }), /no bootstrap token/],
  ])('rejects %j', (s, why) => {
    expect(() => decodeJoinToken(s)).toThrow(why);
  });
});

describe('resolveAgentConfig', () => {
  it('parses labels and taints, flags over environment', () => {
    const c = resolveAgentConfig({ nodeLabel: ['zone=a', 'example.com/tier=edge'], nodeTaint: ['dedicated=edge:NoSchedule', 'gpu:NoExecute'], nodeName: 'n1' }, { EDGEOS_NODE_NAME: 'ignored' }, '/', 'host');
    expect(c.nodeName).toBe('n1');
    expect(c.register.labels).toEqual({ zone: 'a', 'example.com/tier': 'edge' });
    expect(c.register.taints).toEqual([{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }, { key: 'gpu', effect: 'NoExecute' }]);
    expect(resolveAgentConfig({}, { EDGEOS_NODE_LABEL: 'a=1,b=2' }, '/', 'Host-Name').register.labels).toEqual({ a: '1', b: '2' });
    expect(resolveAgentConfig({}, {}, '/', 'Host-Name').nodeName).toBe('host-name');
  });

  it('--sync-frequency over EDGEOS_SYNC_FREQUENCY, as a Go duration; unset by default (the kubelet\'s 1m)', () => {
    expect(resolveAgentConfig({ syncFrequency: '2m30s' }, { EDGEOS_SYNC_FREQUENCY: '10s' }, '/', 'host').syncFrequencyMs).toBe(150_000);
    expect(resolveAgentConfig({}, { EDGEOS_SYNC_FREQUENCY: '10s' }, '/', 'host').syncFrequencyMs).toBe(10_000);
    expect(resolveAgentConfig({ syncFrequency: '1s' }, {}, '/', 'host').syncFrequencyMs).toBe(1000);
    expect(resolveAgentConfig({}, {}, '/', 'host').syncFrequencyMs).toBeUndefined();
  });

  it('--pod-network-backend over EDGEOS_POD_NETWORK_BACKEND; auto by default', () => {
    expect(resolveAgentConfig({ podNetworkBackend: 'vxlan' }, { EDGEOS_POD_NETWORK_BACKEND: 'auto' }, '/', 'host').podNetworkBackend).toBe('vxlan');
    expect(resolveAgentConfig({}, { EDGEOS_POD_NETWORK_BACKEND: 'VXLAN' }, '/', 'host').podNetworkBackend).toBe('vxlan');
    expect(resolveAgentConfig({}, {}, '/', 'host').podNetworkBackend).toBe('auto');
  });

  it('--cgroup-root over EDGEOS_CGROUP_ROOT; unset by default (the agent picks one from the data dir)', () => {
    expect(resolveAgentConfig({ cgroupRoot: '/edge' }, { EDGEOS_CGROUP_ROOT: '/other' }, '/', 'host').cgroupRoot).toBe('/edge');
    expect(resolveAgentConfig({}, { EDGEOS_CGROUP_ROOT: '/other' }, '/', 'host').cgroupRoot).toBe('/other');
    expect(resolveAgentConfig({}, {}, '/', 'host').cgroupRoot).toBeUndefined();
  });

  it('--pool is the membership label; EDGEOS_POOL when the flag is absent', () => {
    expect(resolveAgentConfig({ pool: 'shop-7', nodeLabel: ['zone=a'] }, { EDGEOS_POOL: 'other' }, '/', 'host').register.labels).toEqual({ zone: 'a', 'apps.edgeos.io/pool': 'shop-7' });
    expect(resolveAgentConfig({}, { EDGEOS_POOL: 'cdn-eu' }, '/', 'host').register.labels).toEqual({ 'apps.edgeos.io/pool': 'cdn-eu' });
    expect(resolveAgentConfig({ pool: 'a', nodeLabel: ['apps.edgeos.io/pool=a'] }, {}, '/', 'host').register.labels).toEqual({ 'apps.edgeos.io/pool': 'a' });
  });

  it.each([
    [{ nodeLabel: ['novalue'] }, {}, /--node-label: "novalue" is not key=value/],
    [{ nodeTaint: ['k=v:Sometimes'] }, {}, /--node-taint: effect "Sometimes" is not one of/],
    [{ nodeName: 'Bad_Name' }, {}, /--node-name: "Bad_Name" is not a lowercase DNS-1123 subdomain/],
    [{}, { EDGEOS_NODE_TAINT: 'x' }, /EDGEOS_NODE_TAINT: "x" is not key=value:Effect/],
    [{}, { EDGEOS_DISABLE_RUNTIME: 'maybe' }, /EDGEOS_DISABLE_RUNTIME: "maybe" is not a boolean/],
    [{ pool: 'Shop_1' }, {}, /--pool: "Shop_1" is not a node pool name/],
    [{}, { EDGEOS_POOL: 'a.b' }, /EDGEOS_POOL: "a.b" is not a node pool name/],
    [{ pool: 'a', nodeLabel: ['apps.edgeos.io/pool=b'] }, {}, /--pool: names pool "a" but --node-label apps.edgeos.io\/pool=b another/],
    [{ cgroupRoot: 'kubepods' }, {}, /--cgroup-root: "kubepods" is not an absolute cgroup path/],
    [{}, { EDGEOS_CGROUP_ROOT: '/a/../b' }, /EDGEOS_CGROUP_ROOT: "\/a\/..\/b" must not contain \. or \.\. segments/],
    [{ syncFrequency: '60' }, {}, /--sync-frequency: "60" is not a duration of at least 1s such as 1m or 90s/],
    [{ syncFrequency: '500ms' }, {}, /--sync-frequency: "500ms" is not a duration of at least 1s/],
    [{}, { EDGEOS_SYNC_FREQUENCY: 'often' }, /EDGEOS_SYNC_FREQUENCY: "often" is not a duration/],
    [{ podNetworkBackend: 'host-gw' }, {}, /--pod-network-backend: "host-gw" is not a pod network backend: one of auto, vxlan/],
    [{}, { EDGEOS_POD_NETWORK_BACKEND: 'wireguard' }, /EDGEOS_POD_NETWORK_BACKEND: "wireguard" is not a pod network backend/],
    [{}, { EDGEOS_POD_START_CONCURRENCY: '-1' }, /EDGEOS_POD_START_CONCURRENCY: "-1" is not accepted \(0 = unbounded, or a positive integer\)/],
    [{}, { EDGEOS_HEAP_COMPACT: '0' }, /EDGEOS_HEAP_COMPACT: "0" is not accepted \(on or off\)/],
    [{}, { EDGEOS_MALLOC_TRIM: 'no' }, /EDGEOS_MALLOC_TRIM: "no" is not accepted \(on or off\)/],
  ])('names the flag: %j %j', (raw, env, why) => {
    expect(() => resolveAgentConfig(raw, env, '/', 'host')).toThrow(why);
  });
});

describe('token TTL', () => {
  it.each([
    ['24h', 86400],
    ['1h30m', 5400],
    ['7d', 604800],
    ['0', 0],
  ])('%s = %d s', (s, n) => expect(parseTtl(s)).toBe(n));
  it('rejects nonsense naming --ttl', () => expect(() => parseTtl('soon')).toThrow(/--ttl: "soon"/));
});

describe('reconnect backoff', () => {
  it('doubles up to the cap, jittered between half and the full delay', () => {
    const o = { initialMs: 500, maxMs: 30_000 };
    expect(reconnectDelay(0, o, () => 0)).toBe(250);
    expect(reconnectDelay(0, o, () => 1)).toBe(500);
    expect(reconnectDelay(3, o, () => 1)).toBe(4000);
    expect(reconnectDelay(20, o, () => 0.5)).toBe(22_500);
    expect(reconnectDelay(100, o, () => 1)).toBe(30_000);
  });
});

describe('certificate renewal', () => {
  it('is due after 2/3 of the lifetime', async () => {
    const { execFileSync } = await import('node:child_process');
    const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', '/CN=x', '-keyout', '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const now = Date.now();
    expect(renewalDue(pem, now)).toBe(false);
    expect(renewalDue(pem, now + 19 * 86400_000)).toBe(false);
    expect(renewalDue(pem, now + 21 * 86400_000)).toBe(true);
  });
});

describe('advertised addresses', () => {
  it('prefer --advertise-address, then a specific --bind-address, else every IPv4 address and loopback', () => {
    expect(advertisedHosts({ advertiseAddress: '10.1.2.3', bindAddress: '0.0.0.0' })).toEqual(['10.1.2.3']);
    expect(advertisedHosts({ advertiseAddress: undefined, bindAddress: '192.168.7.1' })).toEqual(['192.168.7.1']);
    const wild = advertisedHosts({ advertiseAddress: undefined, bindAddress: '0.0.0.0' });
    expect(wild.at(-1)).toBe('127.0.0.1');
    expect(advertisedUrls({ advertiseAddress: '::1', bindAddress: '::', port: 6443 })).toEqual(['https://[::1]:6443']);
  });

  it('are all names of the serving certificate, so an agent dialling any URL a join token names can verify it', () => {
    const o = { advertiseAddress: undefined, bindAddress: '0.0.0.0', port: 6443 };
    const sans = servingSans({ hostname: 'h', tlsSans: advertisedHosts(o) }).map((s) => s.value);
    for (const u of advertisedUrls(o)) expect(sans).toContain(new URL(u).hostname);
  });
});
