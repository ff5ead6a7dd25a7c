// The link peer both ends use, over the in-process transport pair: requests and their acks,
// timeouts and cancellation with late acks ignored, refusal of unknown message types with the
// link kept, closing on a frame that is not a message, pending requests failing when the link
// ends, and stream bytes. Plus the closed set of link error codes that acks carry.
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeosError } from '../../src/common/errors.ts';
import { LinkError, LinkErrorCode, ackError, isLinkErrorCode } from '../../src/common/link/errors.ts';
import { inProcessLinkPair } from '../../src/common/link/in-process-transport.ts';
import { LinkPeer } from '../../src/common/link/peer.ts';
import { LINK_PROTOCOL_VERSION, LinkCloseCode, parseAgentMessage, parseServerMessage } from '../../src/common/link/protocol.ts';
import type { AgentMessage, ServerMessage } from '../../src/common/link/protocol.ts';
import type { LinkTransport } from '../../src/common/link/transport.ts';
import { silentLogger } from '../../src/common/log.ts';

type Received<T> = Exclude<T, { type: 'ack' | 'stream-end' | 'stream-reset' | 'stream-credit' }>;

const peers: { close(code: number, reason: string): void }[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close(LinkCloseCode.GOING_AWAY, 'test done');
});

function pair(): {
  agent: LinkPeer<ServerMessage, AgentMessage>;
  server: LinkPeer<AgentMessage, ServerMessage>;
  atAgent: Received<ServerMessage>[];
  atServer: Received<AgentMessage>[];
  agentEnd: LinkTransport;
} {
  const [agentEnd, serverEnd] = inProcessLinkPair();
  const atAgent: Received<ServerMessage>[] = [];
  const atServer: Received<AgentMessage>[] = [];
  const common = { keepalive: { pingAfterMs: 60_000, deadAfterMs: 64_000 }, log: silentLogger() };
  const agent = new LinkPeer<ServerMessage, AgentMessage>({
    ...common,
    transport: agentEnd,
    self: 'agent',
    other: 'server',
    parse: parseServerMessage,
    onMessage: (m) => atAgent.push(m),
    closedError: (why) => new LinkError(LinkErrorCode.LINK_CLOSED, `agent side: ${why}`),
    streamsClosedMessage: 'agent side closed',
  });
  const server = new LinkPeer<AgentMessage, ServerMessage>({
    ...common,
    transport: serverEnd,
    self: 'server',
    other: 'agent',
    parse: parseAgentMessage,
    onMessage: (m) => atServer.push(m),
    closedError: (why) => new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `server side: ${why}`),
    streamsClosedMessage: 'server side closed',
  });
  peers.push(agent, server);
  return { agent, server, atAgent, atServer, agentEnd };
}

const tick = () => new Promise((r) => setImmediate(r));
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await tick();
  if (!ok()) throw new Error(`never: ${what}`);
};

describe('link peer', () => {
  it('answers a request with an ack of the same id, an error ack included', async () => {
    const { agent, server, atServer } = pair();
    const lease = agent.request({ type: 'lease', durationSeconds: 40 });
    await until('the lease arrived', () => atServer.length === 1);
    expect(atServer[0]).toEqual({ type: 'lease', durationSeconds: 40, id: 1 });
    server.ack(atServer[0]!.id);
    expect(await lease).toEqual({ type: 'ack', id: 1 });

    const status = agent.request({ type: 'node-status', status: {} });
    await until('the status arrived', () => atServer.length === 2);
    server.refuse(atServer[1]!.id, { code: LinkErrorCode.LINK_REFUSED, message: 'no' });
    expect(await status).toEqual({ type: 'ack', id: 2, error: { code: 'LINK_REFUSED', message: 'no' } });
  });

  it('fails a request that timed out or was cancelled, and ignores its late ack', async () => {
    const { agent, server, atAgent } = pair();
    const timedOut = server.request({ type: 'stats-request' }, { timeoutMs: 20, timeoutError: () => new LinkError(LinkErrorCode.STATS_TIMEOUT, 'too slow') });
    await expect(timedOut).rejects.toMatchObject({ code: 'STATS_TIMEOUT', message: 'too slow' });
    const ac = new AbortController();
    const cancelled = server.request({ type: 'stats-request' }, { signal: ac.signal, cancelledError: () => new LinkError(LinkErrorCode.TUNNEL_FAILED, 'cancelled') });
    ac.abort('no longer wanted');
    await expect(cancelled).rejects.toMatchObject({ code: 'TUNNEL_FAILED', message: 'cancelled' });
    await until('both requests arrived', () => atAgent.length === 2);
    for (const m of atAgent) agent.ack(m.id, { stats: { timestamp: 1, windowMs: 1, node: { cpuNanoCores: 0, memoryBytes: 0 }, pods: [] } });
    // The late acks find nothing; the link goes on.
    const next = server.request({ type: 'stats-request' });
    await until('the third request arrived', () => atAgent.length === 3);
    agent.ack(atAgent[2]!.id);
    expect(await next).toEqual({ type: 'ack', id: 3 });
    expect(server.open && agent.open).toBe(true);
  });

  it('refuses a message type it does not know and keeps the link', async () => {
    const { agent, server, atServer } = pair();
    const ack = await agent.request({ type: 'from-the-future' } as never);
    expect(ack.error).toEqual({ code: 'LINK_PROTOCOL', message: `the server does not know link message type "from-the-future" (it speaks link protocol ${LINK_PROTOCOL_VERSION})` });
    expect(atServer).toEqual([]);
    expect(server.open && agent.open).toBe(true);
  });

  it('closes on a frame that is not a message, failing what is pending with its closed error', async () => {
    const { agent, server, agentEnd } = pair();
    const pending = agent.request({ type: 'lease', durationSeconds: 40 });
    agentEnd.sendText('{"type":"lease"}'); // no id
    expect(await server.closed).toBe('protocol error');
    expect(await agent.closed).toBe(`closed (${LinkCloseCode.PROTOCOL} protocol error)`);
    await expect(pending).rejects.toMatchObject({ code: 'LINK_CLOSED', message: `agent side: closed (${LinkCloseCode.PROTOCOL} protocol error)` });
    await expect(agent.request({ type: 'lease', durationSeconds: 40 })).rejects.toMatchObject({ code: 'LINK_CLOSED' });
  });

  it('carries stream bytes both ways and fails the streams when the link ends', async () => {
    const { agent, server } = pair();
    const a = agent.openStream(7);
    const s = server.openStream(7);
    const got: Buffer[] = [];
    s.on('data', (b: Buffer) => got.push(b));
    a.write(Buffer.alloc(100_000, 1));
    await until('the bytes arrived', () => Buffer.concat(got).length === 100_000);
    const failed = new Promise<Error>((r) => a.once('error', r));
    server.close(LinkCloseCode.GOING_AWAY, 'bye');
    expect((await failed).message).toBe('agent side closed');
  });
});

describe('link error codes', () => {
  it('are a closed set, each named by its value', () => {
    for (const [name, code] of Object.entries(LinkErrorCode)) {
      expect(code).toBe(name);
      expect(isLinkErrorCode(code)).toBe(true);
    }
    expect(isLinkErrorCode('TUNNEL_CONTAINER_NOT_FOUND')).toBe(false);
  });

  it('put a failure from elsewhere into an ack as the context’s code, keeping its message', () => {
    expect(ackError(new EdgeosError('TUNNEL_CONTAINER_NOT_FOUND', 'container not found ("x")'), LinkErrorCode.TUNNEL_FAILED))
      .toEqual({ code: 'TUNNEL_FAILED', message: 'container not found ("x")' });
    expect(ackError(new LinkError(LinkErrorCode.LINK_PROTOCOL, 'twice'), LinkErrorCode.LINK_REFUSED)).toEqual({ code: 'LINK_PROTOCOL', message: 'twice' });
    expect(ackError('plain', LinkErrorCode.LINK_REFUSED)).toEqual({ code: 'LINK_REFUSED', message: 'plain' });
  });
});
