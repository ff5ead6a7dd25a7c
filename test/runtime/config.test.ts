import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/common/errors.ts';
import { builtinPauseImage, parseCidr, resolveRuntimeConfig } from '../../src/runtime/config.ts';

describe('resolveRuntimeConfig', () => {
  it('derives every path from the data dir and defaults the rest', () => {
    const c = resolveRuntimeConfig({ dataDir: '/var/lib/edgeos' });
    expect(c.containerd).toMatchObject({
      binary: 'containerd',
      root: '/var/lib/edgeos/agent/containerd/root',
      state: '/var/lib/edgeos/agent/containerd/state',
      address: '/var/lib/edgeos/agent/containerd/containerd.sock',
      runcRoot: '/var/lib/edgeos/agent/containerd/state/runc',
      templateFile: '/var/lib/edgeos/agent/containerd/config.toml.tmpl',
    });
    expect(c.endpoint).toBe(c.containerd!.address);
    expect(c.imagesDir).toBe('/var/lib/edgeos/agent/images');
    expect(c.registriesFile).toBe('/etc/edgeos/registries.yaml');
    expect(c.cni).toMatchObject({ binDir: '/usr/lib/cni', podCidr: '10.42.0.0/24', confDir: '/var/lib/edgeos/agent/etc/cni/net.d' });
    expect(c.pauseImage).toBe(builtinPauseImage);
    expect(c.builtinPause).toBe(true);
    expect(c.imageGc).toEqual({ highPercent: 85, lowPercent: 80, intervalMs: 300_000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('gives two agents on one host distinct bridges, networks and state', () => {
    const a = resolveRuntimeConfig({ dataDir: '/srv/agent-a' });
    const b = resolveRuntimeConfig({ dataDir: '/srv/agent-b' });
    expect(a.cni.bridge).not.toBe(b.cni.bridge);
    expect(a.cni.bridge.length).toBeLessThanOrEqual(15);
    expect(a.cni.networkName).not.toBe(b.cni.networkName);
    expect(a.cni.ipamDataDir).not.toBe(b.cni.ipamDataDir);
    expect(a.containerd!.runcRoot).not.toBe(b.containerd!.runcRoot);
    expect(a.endpoint).not.toBe(b.endpoint);
  });

  it('uses an external CRI endpoint as it is', () => {
    const c = resolveRuntimeConfig({ dataDir: '/d', containerRuntimeEndpoint: 'unix:///run/k3s/containerd/containerd.sock' });
    expect(c.containerd).toBeUndefined();
    expect(c.endpoint).toBe('/run/k3s/containerd/containerd.sock');
  });

  it.each([
    [{ dataDir: 'relative' }, '--data-dir'],
    [{ dataDir: `/${'x'.repeat(90)}` }, '--data-dir'],
    [{ dataDir: '/d', containerRuntimeEndpoint: 'containerd.sock' }, '--container-runtime-endpoint'],
    [{ dataDir: '/d', podCidr: '10.42.0.0' }, '--pod-cidr'],
    [{ dataDir: '/d', podCidr: '10.42.300.0/24' }, '--pod-cidr'],
    [{ dataDir: '/d', podCidr: '10.0.0.0/31' }, '--pod-cidr'],
    [{ dataDir: '/d', cniBridge: 'a-bridge-name-too-long' }, '--cni-bridge'],
    [{ dataDir: '/d', cniBinDir: 'bin' }, '--cni-bin-dir'],
    [{ dataDir: '/d', privateRegistry: 'registries.yaml' }, '--private-registry'],
    [{ dataDir: '/d', imageGcHighPercent: 120 }, '--image-gc-high-threshold'],
    [{ dataDir: '/d', imageGcHighPercent: 50, imageGcLowPercent: 60 }, '--image-gc-low-threshold'],
    [{ dataDir: '/d', runtimeRequestTimeoutMs: 5 }, '--runtime-request-timeout'],
  ])('rejects %j naming %s', (opts, flag) => {
    expect(() => resolveRuntimeConfig(opts)).toThrow(InvalidInputError);
    expect(() => resolveRuntimeConfig(opts)).toThrow(flag);
  });

  it('parses CIDRs to their network address', () => {
    expect(parseCidr('--x', '10.42.3.7/24')).toEqual({ network: (10 << 24) + (42 << 16) + (3 << 8), prefix: 24 });
  });
});
