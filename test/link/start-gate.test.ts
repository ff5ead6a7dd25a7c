// Storm spreading: the server's start gate runs a bounded number of link starts at once, queues the
// rest in order and, past its queue bound, tells new links when to come back; the agent's
// reconnect loop waits at least that long.
import { describe, expect, it } from 'vitest';
import { startReconnectLoop } from '../../src/agent/link/reconnect-loop.ts';
import { LinkError, LinkErrorCode } from '../../src/common/link/errors.ts';
import { silentLogger } from '../../src/common/log.ts';
import { StartGate } from '../../src/server/link/start-gate.ts';

describe('start gate', () => {
  it('runs at most `concurrency` starts, in arrival order, and turns links away past its queue bound', async () => {
    const gate = new StartGate({ concurrency: 2, maxWaiting: 3, random: () => 0.99 });
    const release: (() => void)[] = [];
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const runs = Array.from({ length: 5 }, (_, i) => gate.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise<void>((r) => release.push(r));
      running--;
    }));
    await new Promise((r) => setImmediate(r));
    expect(gate.waiting).toBe(3);
    expect(order).toEqual([0, 1]);
    const retry = gate.retryAfterSeconds();
    expect(retry).toBeGreaterThanOrEqual(1);
    while (order.length < 5 || release.length > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(gate.retryAfterSeconds()).toBeUndefined();
  });

  it('the agent waits at least the Retry-After the server sent, whatever its own backoff says', async () => {
    const attempts: number[] = [];
    const loop = startReconnectLoop({
      servers: () => ['https://127.0.0.1:1'],
      backoff: { initialMs: 10, maxMs: 20 },
      connect: async () => {
        attempts.push(Date.now());
        if (attempts.length === 1) throw new LinkError(LinkErrorCode.LINK_REFUSED, 'busy', { retryAfterMs: 1500 });
        throw new LinkError(LinkErrorCode.LINK_CLOSED, 'down');
      },
      onDisconnect: () => undefined,
      log: silentLogger(),
    });
    while (attempts.length < 3) await new Promise((r) => setTimeout(r, 20));
    loop.stop();
    await loop.done;
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(1500);
    expect(attempts[1]! - attempts[0]!).toBeLessThan(2600);
    expect(attempts[2]! - attempts[1]!).toBeLessThan(500);
  });

  it("with several servers a busy one's Retry-After holds for that server only: the next is tried at once", async () => {
    const attempts: { server: string; at: number }[] = [];
    const loop = startReconnectLoop({
      servers: () => ['https://127.0.0.1:1', 'https://127.0.0.1:2'],
      backoff: { initialMs: 10, maxMs: 20 },
      connect: async (server) => {
        attempts.push({ server, at: Date.now() });
        if (server.endsWith(':1')) throw new LinkError(LinkErrorCode.LINK_REFUSED, 'busy', { retryAfterMs: 1500 });
        throw new LinkError(LinkErrorCode.LINK_CLOSED, 'down');
      },
      onDisconnect: () => undefined,
      log: silentLogger(),
    });
    while (attempts.length < 3) await new Promise((r) => setTimeout(r, 20));
    loop.stop();
    await loop.done;
    expect(attempts.slice(0, 3).map((a) => a.server.slice(-1))).toEqual(['1', '2', '1']);
    // Well under the 1.5 s the busy server asked for (the backoff here is 10–20 ms).
    expect(attempts[1]!.at - attempts[0]!.at).toBeLessThan(1200);
  });
});
