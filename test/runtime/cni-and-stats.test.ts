import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/common/errors.ts';
import { checkPodCidrFree, parseProcNetRoute } from '../../src/runtime/cni/cidr-check.ts';
import { conflistName, renderConflist, writeConflist } from '../../src/runtime/cni/conflist.ts';
import { resolveRuntimeConfig } from '../../src/runtime/config.ts';
import { CpuRate, parseMeminfo, parseProcStat, readNodeCpuMem } from '../../src/runtime/stats/node-stats.ts';

const dir = mkdtempSync('/tmp/eos-cni-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CNI conflist', () => {
  it('is bridge + host-local on the pod CIDR + portmap, with per-agent names', () => {
    const cni = resolveRuntimeConfig({ dataDir: '/var/lib/edgeos', podCidr: '10.42.7.9/24', cniBridge: 'edge0' }).cni;
    const c = renderConflist(cni) as { name: string; plugins: Record<string, unknown>[] };
    expect(c.name).toBe('edgeos-edge0');
    expect(c.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(c.plugins[0]).toMatchObject({
      bridge: 'edge0', isGateway: true, ipMasq: true, hairpinMode: true,
      ipam: { type: 'host-local', dataDir: '/var/lib/edgeos/agent/cni/networks', ranges: [[{ subnet: '10.42.7.0/24', gateway: '10.42.7.1' }]] },
    });
    expect(c.plugins[1]).toMatchObject({ capabilities: { portMappings: true } });
  });

  it('replaces stale configs that containerd would load first', async () => {
    const cni = resolveRuntimeConfig({ dataDir: dir }).cni;
    await writeConflist(cni);
    writeFileSync(`${cni.confDir}/05-stale.conflist`, '{}');
    await writeConflist(cni);
    expect(readdirSync(cni.confDir)).toEqual([conflistName]);
    expect(JSON.parse(readFileSync(`${cni.confDir}/${conflistName}`, 'utf8')).plugins[0].bridge).toBe(cni.bridge);
  });
});

describe('pod CIDR check', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'eosA\t00002A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');

  it('parses /proc/net/route without the default route', () => {
    expect(parseProcNetRoute(table)).toEqual([
      { iface: 'eth0', network: (192 << 24 >>> 0) + (168 << 16) + (2 << 8), prefix: 24 },
      { iface: 'eosA', network: (10 << 24) + (42 << 16), prefix: 24 },
    ]);
  });

  it('refuses a CIDR another interface already routes, naming the flag', () => {
    const cidr = (podCidr: string, cniBridge = 'eosB') => resolveRuntimeConfig({ dataDir: '/d', podCidr, cniBridge }).cni;
    const routes = parseProcNetRoute(table);
    expect(() => checkPodCidrFree(cidr('10.42.0.0/24'), routes)).toThrow(InvalidInputError);
    expect(() => checkPodCidrFree(cidr('10.42.0.0/16'), routes)).toThrow(/--pod-cidr: 10.42.0.0\/16 overlaps 10.42.0.0\/24 routed via eosA/);
    expect(() => checkPodCidrFree(cidr('192.168.2.128/25'), routes)).toThrow(/via eth0/);
    expect(() => checkPodCidrFree(cidr('10.43.0.0/24'), routes)).not.toThrow();
    // Our own bridge's route from a previous run is fine.
    expect(() => checkPodCidrFree(cidr('10.42.0.0/24', 'eosA'), routes)).not.toThrow();
  });
});

describe('node stats', () => {
  it('parses /proc/stat busy time and /proc/meminfo', () => {
    expect(parseProcStat('cpu  100 10 50 1000 20 5 5 2 0 0\ncpu0 1 2 3\n')).toBe((100 + 10 + 50 + 5 + 5 + 2) * 1e7);
    expect(parseMeminfo('MemTotal:       2048 kB\nMemFree: 1 kB\nMemAvailable:   1024 kB\n')).toEqual({ total: 2048 * 1024, available: 1024 * 1024 });
  });

  it('reads this machine', async () => {
    const n = await readNodeCpuMem();
    expect(n.memoryTotalBytes).toBeGreaterThan(n.memoryWorkingSetBytes);
    expect(n.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);
  });

  it('turns cumulative CPU time into nanocores', () => {
    const r = new CpuRate();
    expect(r.rate('c', 1e9, 1000)).toBe(0);
    expect(r.rate('c', 1.5e9, 2000)).toBe(5e8); // half a core over one second
    expect(r.rate('c', 1e9, 3000)).toBe(0); // counter reset (container restarted)
    r.retain(new Set());
    expect(r.rate('c', 2e9, 4000)).toBe(0);
  });
});
