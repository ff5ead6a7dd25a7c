// The link's protocol edges against the real server: the keepalive pings only a silent link (the
// lease and its ack keep an idle one busy enough), a message type the other end does not know
// fails that request with a clear error and leaves the link up, and an agent of another protocol
// version is refused before the upgrade with a message that says so.
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIdentity } from '../../src/agent/join/node-files.ts';
import { LINK_PATH, LINK_SUBPROTOCOL, parseServerMessage } from '../../src/common/link/protocol.ts';
import { serverProcess, sleep, startTestAgent, waitFor } from './harness.ts';
import type { ServerProcess, TestAgent } from './harness.ts';

let server: ServerProcess;
let busy: TestAgent;
let silent: TestAgent;

beforeAll(async () => {
  server = await serverProcess();
  // Leases (and acks) every 200 ms: never silent for a 500 ms ping interval.
  busy = await startTestAgent(server.token(), 'busy', server.dir, { pingIntervalMs: 500, leaseIntervalMs: 200 });
  // Leases every minute: nothing arrives from the server for most 300 ms intervals.
  silent = await startTestAgent(server.token(), 'silent', server.dir, { pingIntervalMs: 300, leaseIntervalMs: 60_000 });
}, 60_000);

afterAll(async () => {
  await busy?.stop();
  await silent?.stop();
  await server?.dispose();
});

describe('message parsing', () => {
  it('tells a message, an unknown type and garbage apart', () => {
    expect(parseServerMessage('{"type":"bookmark","id":3,"revision":"9"}')).toEqual({ kind: 'message', message: { type: 'bookmark', id: 3, revision: '9' } });
    expect(parseServerMessage('{"type":"from-the-future","id":4}')).toEqual({ kind: 'unknown', id: 4, type: 'from-the-future' });
    expect(parseServerMessage('{"type":"bookmark"}')).toEqual({ kind: 'invalid' });
    expect(parseServerMessage('not json')).toEqual({ kind: 'invalid' });
  });
});

describe('keepalive', () => {
  it('sends no ping while traffic flows, and pings a silent link without dropping it', async () => {
    const connects = silent.agent.link!.stats.connects;
    // Counted from here: the first sync (join, snapshot) may take a while on a loaded machine.
    const busyPings = busy.agent.link!.stats.pings;
    await sleep(2500);
    expect(busy.agent.link!.stats.pings - busyPings).toBe(0);
    expect(busy.agent.link!.connected).toBe(true);
    // Each 300 ms of silence sends one ping; its pong counts as heard.
    expect(silent.agent.link!.stats.pings).toBeGreaterThanOrEqual(2);
    expect(silent.agent.link!.connected).toBe(true);
    expect(silent.agent.link!.stats.connects).toBe(connects);
  });
});

describe('compatibility', () => {
  it('refuses a message type it does not know with a clear error and keeps the link', async () => {
    const link = busy.agent.link!;
    const connects = link.stats.connects;
    await expect(link.request({ type: 'from-the-future' } as never)).rejects.toThrow('the server does not know link message type "from-the-future" (it speaks link protocol 3)');
    // The link is still the same one and still answers.
    await link.request({ type: 'lease', durationSeconds: 40 });
    expect(link.connected).toBe(true);
    expect(link.stats.connects).toBe(connects);
    // The server's log reaches us through its stdout pipe, which may trail the ack on the link.
    await waitFor('the server to log the refusal', () => /agent sent a message type this server does not know/.test(server.output()) || undefined, 10_000);
  });

  it('refuses an agent of another protocol version before the upgrade, saying why', async () => {
    const id = readIdentity(busy.dataDir);
    const target = new URL(LINK_PATH, server.url);
    target.protocol = 'wss:';
    const ws = new WebSocket(target, 'edgeos.link.v1', { ca: id.caPem, cert: id.certPem, key: id.keyPem });
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.once('open', () => reject(new Error('an old agent was let in')));
      ws.once('error', () => undefined);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    ws.terminate();
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).message).toBe(`this server speaks ${LINK_SUBPROTOCOL}, the agent offered edgeos.link.v1: run the same edgeos version on both`);
  });
});
