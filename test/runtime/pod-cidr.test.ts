import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePodCidr as resolveChoice } from '../../src/runtime/cni/pod-cidr.ts';
import type { PodCidrOptions } from '../../src/runtime/cni/pod-cidr.ts';

const resolvePodCidr = (o: PodCidrOptions): string => resolveChoice(o).cidr;
import { parseProcNetRoute } from '../../src/runtime/cni/cidr-check.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeos-podcidr-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const base = join(root, `t${++n}`);
  return { claimsDir: join(base, 'claims'), dir: (name: string) => join(base, name) };
};

// eth0 10.0.2.0/24 and a bridge on 10.42.0.0/24 (little-endian hex, as /proc/net/route prints).
const routes = parseProcNetRoute(
  'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n' +
    'eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n' +
    'cni0\t00002A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n',
);

const podCidrModule = join(import.meta.dirname, '../../src/runtime/cni/pod-cidr.ts');

/** One process per data dir, all released together, each resolving its CIDR once. */
function resolveConcurrently(claimsDir: string, dataDirs: string[]): Promise<string[]> {
  const start = Date.now() + 600;
  const script = `import { resolvePodCidr } from ${JSON.stringify(podCidrModule)};
    while (Date.now() < ${start});
    process.stdout.write(resolvePodCidr({ dataDir: process.argv[1], claimsDir: ${JSON.stringify(claimsDir)}, routes: [] }).cidr);`;
  return Promise.all(dataDirs.map((dir) => new Promise<string>((ok, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`exit ${code}: ${err}`))));
  })));
}

describe('pod CIDR per agent on one host', () => {
  it('gives agents that start at the same moment different CIDRs (host-wide lock, atomic claims)', async () => {
    for (let round = 0; round < 3; round++) {
      const t = fresh();
      const dirs = [1, 2, 3, 4, 5, 6].map((i) => t.dir(`agent${i}`));
      const got = await resolveConcurrently(t.claimsDir, dirs);
      expect(new Set(got).size, got.join(' ')).toBe(dirs.length);
      expect(readdirSync(t.claimsDir).sort()).toEqual(got.map((c) => c.replace('/', '_')).sort());
    }
  }, 60_000);

  it('skips routed subnets, gives two agents different CIDRs, and keeps each choice', () => {
    const t = fresh();
    const a = resolvePodCidr({ dataDir: t.dir('a'), claimsDir: t.claimsDir, routes });
    const b = resolvePodCidr({ dataDir: t.dir('b'), claimsDir: t.claimsDir, routes });
    expect(a).toBe('10.42.1.0/24');
    expect(b).toBe('10.42.2.0/24');
    expect(readFileSync(join(t.dir('a'), 'agent', 'pod-cidr'), 'utf8').trim()).toBe(a);
    // restarts (even after /run was cleared by a reboot) keep the same subnet
    expect(resolvePodCidr({ dataDir: t.dir('a'), claimsDir: t.claimsDir, routes })).toBe(a);
    rmSync(t.claimsDir, { recursive: true });
    expect(resolvePodCidr({ dataDir: t.dir('b'), claimsDir: t.claimsDir, routes })).toBe(b);
    expect(resolvePodCidr({ dataDir: t.dir('a'), claimsDir: t.claimsDir, routes })).toBe(a);
  });

  it('refuses a requested CIDR another agent holds, naming the flag; takes over a stale claim', () => {
    const t = fresh();
    const a = resolvePodCidr({ dataDir: t.dir('a'), claimsDir: t.claimsDir, routes: [] });
    expect(() => resolvePodCidr({ dataDir: t.dir('b'), requested: a, claimsDir: t.claimsDir, routes: [] })).toThrow(
      `--pod-cidr: ${a} is used by another agent on this host (${t.dir('a')})`,
    );
    expect(() => resolvePodCidr({ dataDir: t.dir('b'), requested: '10.42.x.0/24', claimsDir: t.claimsDir, routes: [] })).toThrow(/--pod-cidr/);
    // agent a moves to another subnet: its old claim is stale and b may take it
    writeFileSync(join(t.dir('a'), 'agent', 'pod-cidr'), '10.42.9.0/24\n');
    expect(resolvePodCidr({ dataDir: t.dir('b'), requested: a, claimsDir: t.claimsDir, routes: [] })).toBe(a);
  });

  it('uses the server\'s CIDR, and falls back to a free one of the host only when another agent here holds it', () => {
    const t = fresh();
    expect(resolveChoice({ dataDir: t.dir('a'), assigned: '10.42.7.0/24', claimsDir: t.claimsDir, routes })).toEqual({ cidr: '10.42.7.0/24' });
    // b belongs to another cluster whose server also chose 10.42.7.0/24 (two clusters' agents on one test host)
    const b = resolveChoice({ dataDir: t.dir('b'), assigned: '10.42.7.0/24', claimsDir: t.claimsDir, routes });
    expect(b).toEqual({ cidr: '10.42.1.0/24', assignedTakenBy: t.dir('a') });
    // the fallback is kept across restarts while the conflict lasts
    expect(resolveChoice({ dataDir: t.dir('b'), assigned: '10.42.7.0/24', claimsDir: t.claimsDir, routes })).toEqual(b);
    // --pod-cidr wins over the server's choice; a kept older choice does not
    expect(resolvePodCidr({ dataDir: t.dir('c'), requested: '10.42.20.0/24', assigned: '10.42.8.0/24', claimsDir: t.claimsDir, routes })).toBe('10.42.20.0/24');
    expect(resolvePodCidr({ dataDir: t.dir('c'), assigned: '10.42.8.0/24', claimsDir: t.claimsDir, routes })).toBe('10.42.8.0/24');
    expect(() => resolveChoice({ dataDir: t.dir('d'), assigned: 'nonsense', claimsDir: t.claimsDir, routes })).toThrow(/node\.spec\.podCIDR/);
    // routed through another interface (an agent that keeps no claim): a fallback; through its own bridge: its own
    expect(resolveChoice({ dataDir: t.dir('e'), assigned: '10.42.0.0/24', claimsDir: t.claimsDir, routes })).toEqual({ cidr: '10.42.2.0/24', assignedTakenBy: 'routed via cni0' });
    expect(resolveChoice({ dataDir: t.dir('f'), assigned: '10.42.0.0/24', claimsDir: t.claimsDir, routes, bridge: 'cni0' })).toEqual({ cidr: '10.42.0.0/24' });
  });
});
