// A recreated sandbox gets its pod's previous IP back (docs/podnet.md, "Pod addresses across
// restarts and reboots"): the keeper points host-local's last_reserved_ip.0 just before the wanted
// address, only when that address is free, one sandbox at a time.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostLocalPodIpKeeper } from '../../src/runtime/cni/pod-ip-keeper.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const ipamDataDir = mkdtempSync(join(tmpdir(), 'pn3-ipkeep-'));
  dirs.push(ipamDataDir);
  const dir = join(ipamDataDir, 'edgeos-net');
  mkdirSync(dir);
  writeFileSync(join(dir, 'last_reserved_ip.0'), '10.42.3.7');
  const last = () => readFileSync(join(dir, 'last_reserved_ip.0'), 'utf8');
  return { dir, last, keeper: hostLocalPodIpKeeper({ ipamDataDir, networkName: 'edgeos-net', podCidr: '10.42.3.0/24' }) };
}

describe('pod IP keeper (host-local)', () => {
  it('points host-local just before a free previous address, and leaves a held one alone', async () => {
    const { dir, last, keeper } = setup();
    expect(await keeper.reuse('10.42.3.2', async () => last())).toBe('10.42.3.1');
    writeFileSync(join(dir, '10.42.3.5'), 'container-id\neth0');
    expect(keeper.held('10.42.3.5')).toBe(true);
    expect(keeper.held('10.42.3.2')).toBe(false);
    expect(await keeper.reuse('10.42.3.5', async () => last())).toBe('10.42.3.1');
  });

  it('ignores addresses outside the pod CIDR, the network, gateway and broadcast addresses', async () => {
    const { last, keeper } = setup();
    for (const ip of ['10.42.4.2', '10.42.3.0', '10.42.3.1', '10.42.3.255', 'nonsense']) {
      expect(await keeper.reuse(ip, async () => last())).toBe('10.42.3.7');
      expect(keeper.held(ip)).toBe(false);
    }
  });

  it('creates sandboxes with a previous address one at a time, and a failure does not block the next', async () => {
    const { last, keeper } = setup();
    const seen: string[] = [];
    let release!: () => void;
    const first = keeper.reuse('10.42.3.10', () => new Promise<void>((r) => {
      seen.push(last());
      release = r;
    }));
    const failing = keeper.reuse('10.42.3.20', async () => {
      seen.push(last());
      throw new Error('RunPodSandbox failed');
    });
    const third = keeper.reuse('10.42.3.30', async () => void seen.push(last()));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['10.42.3.9']);
    release();
    await first;
    await expect(failing).rejects.toThrow('RunPodSandbox failed');
    await third;
    expect(seen).toEqual(['10.42.3.9', '10.42.3.19', '10.42.3.29']);
  });
});
