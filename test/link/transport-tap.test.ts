import { describe, expect, it } from 'vitest';
import { inProcessLinkPair } from '../../src/common/link/in-process-transport.ts';
import { tapTransport, type LinkTransport, type LinkTransportHandlers } from '../../src/common/link/transport.ts';

function collect(t: LinkTransport) {
  const got = { text: [] as string[], binary: [] as number[], heard: 0, closed: [] as [number, string][] };
  const h: LinkTransportHandlers = {
    text: (d) => got.text.push(d),
    binary: (f) => got.binary.push(f.length),
    heard: () => got.heard++,
    closed: (c, r) => got.closed.push([c, r]),
  };
  t.attach(h);
  return got;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('tapTransport', () => {
  it('counts payload bytes each way and passes every frame, ping and close through', async () => {
    const [a, b] = inProcessLinkPair();
    const seen = { received: 0, sent: 0, heard: 0, closed: [] as number[] };
    const tapped = tapTransport(a, {
      received: (n) => (seen.received += n),
      sent: (n) => (seen.sent += n),
      heard: () => seen.heard++,
      closed: (c) => seen.closed.push(c),
    });
    const atA = collect(tapped);
    const atB = collect(b);
    tapped.sendText('héllo'); // 6 bytes in UTF-8
    tapped.sendBinary(Buffer.alloc(10));
    b.sendText('ok');
    b.sendBinary(Buffer.alloc(3));
    tapped.ping();
    await tick();
    await tick();
    expect(atB.text).toEqual(['héllo']);
    expect(atB.binary).toEqual([10]);
    expect(atA.text).toEqual(['ok']);
    expect(atA.binary).toEqual([3]);
    expect(seen.sent).toBe(16);
    expect(seen.received).toBe(5);
    expect(seen.heard).toBe(1);
    expect(atA.heard).toBe(1);
    tapped.close(4000, 'bye');
    await tick();
    expect(seen.closed).toEqual([4000]);
    expect(atA.closed).toEqual([[4000, 'bye']]);
    expect(tapped.open).toBe(false);
    // Nothing counted once closed: the transport drops the send.
    tapped.sendText('late');
    expect(seen.sent).toBe(16);
  });

  it('reads every other member through, including ones set by the dialer after the fact', () => {
    const [a] = inProcessLinkPair();
    const dialed = Object.assign(a, { tlsSessionReused: true });
    const tapped = tapTransport(dialed, {});
    expect(tapped.tlsSessionReused).toBe(true);
    expect(tapped.bufferedBytes).toBe(0);
    expect(tapped.open).toBe(true);
    const [c] = inProcessLinkPair();
    expect(tapTransport(c, {}).tlsSessionReused).toBeUndefined();
  });
});
