// The link dial's handshake limit grows with the dials to a server that failed before the link was
// up (src/agent/link/dial.ts): in a storm, a dial the server was slow to answer is not abandoned
// at 10 s and paid for again by the server with a new TLS handshake.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HANDSHAKE_TIMEOUT_MS, MAX_HANDSHAKE_TIMEOUT_MS, handshakeTimeoutMs, webSocketDialer } from '../../src/agent/link/dial.ts';
import { LinkError } from '../../src/common/link/errors.ts';

describe('link dial handshake limit', () => {
  it('is 10 s for a first dial, then doubles per failed dial up to 80 s, plus up to a quarter of jitter', () => {
    expect(handshakeTimeoutMs(0, () => 0.99)).toBe(HANDSHAKE_TIMEOUT_MS);
    expect([1, 2, 3, 4, 9, 50].map((f) => handshakeTimeoutMs(f, () => 0))).toEqual([20_000, 40_000, 80_000, 80_000, 80_000, 80_000]);
    expect(handshakeTimeoutMs(1, () => 1)).toBe(25_000);
    expect(handshakeTimeoutMs(7, () => 1)).toBe(MAX_HANDSHAKE_TIMEOUT_MS * 1.25);
  });

  it('counts a dial that ended before the link was up, per server; an aborted dial does not count', async () => {
    // A server that takes connections and closes them at once: every dial fails before TLS is done.
    const sockets = new Set<Socket>();
    const tcp = createServer((s) => {
      sockets.add(s);
      s.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as { port: number }).port;
    const asked: number[] = [];
    const dial = webSocketDialer(() => ({ caPem: '', certPem: '', keyPem: '' }), {
      handshakeTimeout: (failures) => {
        asked.push(failures);
        return handshakeTimeoutMs(failures);
      },
    });
    const server = `https://127.0.0.1:${port}`;
    const other = 'https://127.0.0.1:1';
    for (let i = 0; i < 3; i++) await expect(dial(server, new AbortController().signal)).rejects.toBeInstanceOf(LinkError);
    const aborted = new AbortController();
    const pending = dial(server, aborted.signal);
    aborted.abort();
    await expect(pending).rejects.toBeInstanceOf(LinkError);
    await expect(dial(server, new AbortController().signal)).rejects.toBeInstanceOf(LinkError);
    await expect(dial(other, new AbortController().signal)).rejects.toBeInstanceOf(LinkError);
    tcp.close();
    // Failures in a row each dial was given its limit for: the aborted fourth dial did not count,
    // and another server starts from none.
    expect(asked).toEqual([0, 1, 2, 3, 3, 0]);
    expect(sockets.size).toBeGreaterThanOrEqual(4);
  });
});
