// NodeTunnel end to end: the real server (in this process, so the test can call its NodeTunnel),
// a real agent link, and a TunnelHandler that echoes bytes. Covers concurrent streams, a large
// transfer, a slow reader that must not stall another stream, refusals and a missing agent.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelHandler, TunnelOpen } from '../../src/common/tunnel.ts';
import { LinkError } from '../../src/common/link/errors.ts';
import type { EdgeosServer } from '../../src/server/index.ts';
import { startInProcessServer, startTestAgent } from './harness.ts';
import type { TestAgent } from './harness.ts';

const echo: TunnelHandler = {
  async handle(open: TunnelOpen, stream: Duplex) {
    if (open.request.kind === 'logs' && open.request.container === 'missing') throw new Error('container "missing" not found');
    if (open.request.kind === 'logs') {
      // A log-like stream: agent → server only.
      stream.end(`logs of ${open.request.namespace}/${open.request.name}\n`);
      return;
    }
    // Echo everything back, with the replayed HTTP head first.
    if (open.httpHead) stream.write(open.httpHead);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (b: Buffer) => {
        if (!stream.write(b)) {
          stream.pause();
          stream.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => stream.end(resolve));
      stream.on('error', reject);
    });
  },
};

let dir: string;
let server: EdgeosServer;
let agent: TestAgent;
const stop = new AbortController();

const execOpen = (n: number): TunnelOpen => ({
  request: { kind: 'exec', namespace: 'default', name: `p${n}`, uid: 'u', container: 'c', command: ['sh'], stdin: true, stdout: true, stderr: false, tty: false },
  httpHead: Buffer.from(`POST /exec/${n} HTTP/1.1\r\n\r\n`),
});

function readAll(s: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(b));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeos-tunnel-'));
  ({ server } = await startInProcessServer(dir, stop.signal));
  agent = await startTestAgent(readFileSync(join(dir, 'data', 'server', 'token'), 'utf8').trim(), 'tunnel-node', dir, { tunnelHandler: echo });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('NodeTunnel over the link', () => {
  it('echoes bytes through a stream, HTTP head first', async () => {
    const s = await server.tunnel!.open('tunnel-node', execOpen(1));
    const got = readAll(s);
    s.end('hello tunnel');
    expect((await got).toString()).toBe('POST /exec/1 HTTP/1.1\r\n\r\nhello tunnel');
  });

  it('carries a log stream from agent to server', async () => {
    const s = await server.tunnel!.open('tunnel-node', { request: { kind: 'logs', namespace: 'ns', name: 'web', uid: 'u', container: 'c', follow: false, previous: false, timestamps: false } });
    s.end();
    expect((await readAll(s)).toString()).toBe('logs of ns/web\n');
  });

  it('moves 24 MiB intact while a second stream with a stalled reader stays open and unharmed', async () => {
    const stalled = await server.tunnel!.open('tunnel-node', execOpen(2));
    // Fill the stalled stream beyond its window: its sender must wait, not the link.
    stalled.pause();
    const stalledData = randomBytes(2 * 1024 * 1024);
    stalled.write(stalledData);

    const big = await server.tunnel!.open('tunnel-node', execOpen(3));
    const payload = randomBytes(24 * 1024 * 1024);
    const got = readAll(big);
    const head = execOpen(3).httpHead!;
    big.end(payload);
    const echoed = await got;
    expect(echoed.length).toBe(head.length + payload.length);
    expect(createHash('sha256').update(echoed.subarray(head.length)).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));

    // Flow control held the stalled stream's bytes back at the sender: at most a window went out.
    expect(stalled.writableLength).toBeGreaterThan(1024 * 1024);
    // The stalled stream still delivers everything once read.
    const rest = readAll(stalled);
    stalled.resume();
    stalled.end();
    const back = await rest;
    expect(back.subarray(execOpen(2).httpHead!.length).equals(stalledData)).toBe(true);
  }, 120_000);

  it('runs concurrent streams independently', async () => {
    const streams = await Promise.all([4, 5, 6, 7].map((n) => server.tunnel!.open('tunnel-node', execOpen(n))));
    const results = streams.map((s) => readAll(s));
    streams.forEach((s, i) => s.end(`stream ${i}`));
    const texts = (await Promise.all(results)).map((b) => b.toString());
    texts.forEach((t, i) => expect(t).toBe(`POST /exec/${i + 4} HTTP/1.1\r\n\r\nstream ${i}`));
  });

  it('reports TUNNEL_FAILED with the agent message when the handler throws before writing', async () => {
    const err = await server.tunnel!.open('tunnel-node', { request: { kind: 'logs', namespace: 'ns', name: 'web', uid: 'u', container: 'missing', follow: false, previous: false, timestamps: false } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).code).toBe('TUNNEL_FAILED');
    expect((err as LinkError).message).toContain('container "missing" not found');
  });

  it('reports TUNNEL_NO_AGENT for a node without a link', async () => {
    const err = await server.tunnel!.open('no-such-node', execOpen(8)).catch((e: unknown) => e);
    expect((err as LinkError).code).toBe('TUNNEL_NO_AGENT');
  });
});
