import { describe, expect, it } from 'vitest';
import { CriClient, criRpcs } from '../../src/runtime/cri/client.ts';
import { RuntimeUnavailableError } from '../../src/runtime/errors.ts';

describe('CRI client', () => {
  it('routes each method to its service', () => {
    expect(criRpcs.get('RunPodSandbox')!.path).toBe('/runtime.v1.RuntimeService/RunPodSandbox');
    expect(criRpcs.get('PullImage')!.path).toBe('/runtime.v1.ImageService/PullImage');
    expect(criRpcs.size).toBe(24);
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
