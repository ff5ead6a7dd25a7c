// A reader that stops reading cannot make the other end buffer without bound: over a real
// WebSocket on loopback, the server's peer keeps sending while the client's socket is paused; once
// the backlog passes the limit the link is dropped (its agent would reconnect and resume), and the
// memory it held is bounded by the limit plus one message.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkError, LinkErrorCode } from '../../src/common/link/errors.ts';
import { LinkPeer } from '../../src/common/link/peer.ts';
import { LinkCloseCode, parseAgentMessage } from '../../src/common/link/protocol.ts';
import type { AgentMessage, ServerMessage } from '../../src/common/link/protocol.ts';
import { webSocketTransport } from '../../src/common/link/ws-transport.ts';
import { silentLogger } from '../../src/common/log.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('a reader that does not read', () => {
  it('gets its link dropped once the backlog passes the limit', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => http.close(), () => wss.close());
    const serverPeer = new Promise<LinkPeer<AgentMessage, ServerMessage>>((resolve) => {
      wss.on('connection', (ws) => {
        resolve(new LinkPeer<AgentMessage, ServerMessage>({
          transport: webSocketTransport(ws),
          self: 'server',
          other: 'agent',
          parse: parseAgentMessage,
          onMessage: () => undefined,
          keepalive: { pingAfterMs: 60_000, deadAfterMs: 64_000 },
          closedError: (why) => new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, why),
          streamsClosedMessage: 'closed',
          log: silentLogger(),
          maxBufferedBytes: 256 * 1024,
        }));
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    cleanups.push(() => client.terminate());
    await new Promise((r) => client.once('open', r));
    // The agent stops reading: nothing is taken off its socket any more.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    const peer = await serverPeer;
    const changes = [{ kind: 'ConfigMap' as const, namespace: 'default', name: 'big', object: { data: { v: 'x'.repeat(8 * 1024) } } }];
    let sent = 0;
    let peakBacklog = 0;
    const transport = (peer as unknown as { o: { transport: { bufferedBytes: number } } }).o.transport;
    // Kernel socket buffers take a few MB first; then the WebSocket's own queue grows.
    while (peer.open && sent < 20_000) {
      peer.send({ type: 'changes', revision: String(++sent), changes });
      peakBacklog = Math.max(peakBacklog, transport.bufferedBytes);
      if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(peer.open).toBe(false);
    expect(await peer.closed).toBe('the other end does not read');
    expect(peakBacklog).toBeGreaterThan(256 * 1024);
    expect(peakBacklog).toBeLessThan(256 * 1024 + 64 * 1024);
    peer.close(LinkCloseCode.GOING_AWAY, 'done');
  });
});
