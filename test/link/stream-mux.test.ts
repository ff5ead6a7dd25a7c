// The multiplexer on its own, two ends wired back to back in memory: credit bounds what is in
// flight, and a peer that ignores the window gets its stream reset.
import { describe, expect, it } from 'vitest';
import type { StreamControlMessage, WithoutId } from '../../src/common/link/protocol.ts';
import { STREAM_WINDOW_BYTES, StreamMux, encodeDataFrame } from '../../src/common/link/stream-mux.ts';

function pair() {
  const sent = { a: 0, b: 0 };
  let id = 0;
  const deliver = (to: () => StreamMux, m: WithoutId<StreamControlMessage>) => setImmediate(() => to().onControl({ ...m, id: ++id } as StreamControlMessage));
  const a: StreamMux = new StreamMux({
    sendControl: (m) => deliver(() => b, m),
    sendFrame: (f) => {
      sent.a += f.length - 4;
      setImmediate(() => b.onFrame(f));
    },
  });
  const b: StreamMux = new StreamMux({
    sendControl: (m) => deliver(() => a, m),
    sendFrame: (f) => {
      sent.b += f.length - 4;
      setImmediate(() => a.onFrame(f));
    },
  });
  return { a, b, sent };
}

const tick = () => new Promise((r) => setTimeout(r, 50));

describe('StreamMux', () => {
  it('sends about one window to a reader that does not read, and the rest once it does', async () => {
    const { a, b, sent } = pair();
    const out = a.open(1);
    const inn = b.open(1);
    inn.pause();
    const data = Buffer.alloc(4 * STREAM_WINDOW_BYTES, 7);
    out.end(data);
    await tick();
    // The window, plus what the paused reader's own buffer (its highWaterMark) accepted.
    expect(sent.a).toBeLessThanOrEqual(STREAM_WINDOW_BYTES + inn.readableHighWaterMark);
    expect(sent.a).toBeLessThan(data.length / 2);
    const parts: Buffer[] = [];
    inn.on('data', (c: Buffer) => parts.push(c));
    inn.resume();
    await new Promise((r) => inn.once('end', r));
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('resets a stream whose peer exceeds the window', async () => {
    const { b } = pair();
    const inn = b.open(9);
    inn.pause();
    const failed = new Promise<Error>((r) => inn.once('error', r));
    b.onFrame(encodeDataFrame(9, Buffer.alloc(STREAM_WINDOW_BYTES + 1)));
    expect((await failed).message).toMatch(/more than the stream window/);
  });

  it('fails every stream when the link closes', async () => {
    const { a } = pair();
    const s = a.open(3);
    const failed = new Promise<Error>((r) => s.once('error', r));
    a.closeAll('gone');
    expect((await failed).message).toBe('gone');
  });
});
