// The kubelet's ServiceAccount token manager: cached until 80 % of the requested lifetime, then
// renewed; the pod's current token kept while the server cannot be asked (offline), also after
// an agent restart, when only the token in the volume is known.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { createTokenManager } from '../../../src/agent/kubelet/token-manager.ts';
import type { RequestToken } from '../../../src/agent/kubelet/token-manager.ts';

/** A JWT-shaped token issued at `iat` seconds, valid for `ttl` seconds, with a serial to tell them apart. */
const jwt = (iat: number, ttl: number, n: number) => `h.${Buffer.from(JSON.stringify({ iat, exp: iat + ttl, n })).toString('base64url')}.s`;
const serial = (t: string) => (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { n: number }).n;

function setup(now: { ms: number }, onRequest: RequestToken) {
  const source = createTokenManager({ request: onRequest, log: silentLogger(), now: () => now.ms });
  return (current?: string) =>
    source({ namespace: 'ns', serviceAccountName: 'sa', podName: 'p', podUid: 'u1', audience: '', expirationSeconds: 3607, current: async () => current });
}

describe('token manager', () => {
  it('asks once, renews after 80 % of the requested lifetime, and keeps the token while the server cannot be asked', async () => {
    const now = { ms: 1_000_000_000 };
    let n = 0;
    let online = true;
    const asked: unknown[] = [];
    const get = setup(now, async (req) => {
      asked.push(req);
      if (!online) throw new Error('the link to the server is down');
      return { token: jwt(Math.floor(now.ms / 1000), 365 * 86400, ++n) };
    });
    expect(serial((await get()).token)).toBe(1);
    expect(asked).toEqual([{ namespace: 'ns', serviceAccount: 'sa', pod: { name: 'p', uid: 'u1' }, audiences: [], expirationSeconds: 3607 }]);
    now.ms += 2800_000; // 78 % of 3607 s
    expect(serial((await get()).token)).toBe(1);
    expect(asked).toHaveLength(1);
    now.ms += 100_000; // past 80 %
    online = false;
    expect(serial((await get()).token)).toBe(1);
    expect(asked).toHaveLength(2);
    online = true;
    expect(serial((await get()).token)).toBe(2);
  });

  it('starts from the token in the volume after a restart, and fails only without any token', async () => {
    const now = { ms: 2_000_000_000 };
    const get = setup(now, async () => {
      throw new Error('offline');
    });
    const inVolume = jwt(Math.floor(now.ms / 1000) - 7200, 365 * 86400, 7);
    expect(serial((await get(inVolume)).token)).toBe(7);
    await expect(setup(now, async () => Promise.reject(new Error('offline')))()).rejects.toThrow('offline');
  });
});
