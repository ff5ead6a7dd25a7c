import { describe, expect, it } from 'vitest';
import { CriClient, criPackage } from '../../src/runtime/cri/client.ts';
import { RuntimeUnavailableError } from '../../src/runtime/errors.ts';

describe('CRI client', () => {
  it('builds both services from the embedded schema', () => {
    const pkg = criPackage() as unknown as { runtime: { v1: Record<string, { service: Record<string, { path: string }> }> } };
    expect(pkg.runtime.v1.RuntimeService!.service.RunPodSandbox!.path).toBe('/runtime.v1.RuntimeService/RunPodSandbox');
    expect(pkg.runtime.v1.ImageService!.service.PullImage!.path).toBe('/runtime.v1.ImageService/PullImage');
  });

  it('retries an absent socket until the deadline, then reports it unavailable', async () => {
    const client = new CriClient({ endpoint: '/tmp/eos-no-such-dir/containerd.sock' });
    const t0 = Date.now();
    const err = await client.call('Version', { version: 'v1' }, { timeoutMs: 1500 }).catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect((err as Error).message).toMatch(/^Version: /);
    // It kept trying for most of the deadline instead of failing on the first attempt.
    expect(Date.now() - t0).toBeGreaterThan(700);
  });
});
