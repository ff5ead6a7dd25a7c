// The pod network relay's channel (src/common/link/relay.ts) and the server's forwarding with its
// least-privilege check (src/server/link/pod-relay.ts), over real LinkPeers joined in memory.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.ts';
import { inProcessLinkPair } from '../../src/common/link/in-process-transport.ts';
import { LinkPeer } from '../../src/common/link/peer.ts';
import { parseAgentMessage, parseServerMessage } from '../../src/common/link/protocol.ts';
import type { AgentMessage, ServerMessage } from '../../src/common/link/protocol.ts';
import { RELAY_MAX_BUFFERED_BYTES, decodeRelayFrame, encodeRelayFrame, ipv4Ends, isRelayFrame } from '../../src/common/link/relay.ts';
import type { LinkTransport } from '../../src/common/link/transport.ts';
import { PodCidrIndex, PodRelay } from '../../src/server/link/pod-relay.ts';

/** A minimal IPv4 header from `src` to `dst` plus `extra` payload bytes. */
function packet(src: string, dst: string, extra = 0): Buffer {
  const p = Buffer.alloc(20 + extra);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  Buffer.from(src.split('.').map(Number)).copy(p, 12);
  Buffer.from(dst.split('.').map(Number)).copy(p, 16);
  return p;
}

function relayOf(cidrs: Record<string, string>) {
  const index = new PodCidrIndex();
  for (const [n, c] of Object.entries(cidrs)) index.set(n, c);
  const sent: { node: string; packets: Buffer[] }[] = [];
  const relay = new PodRelay(index, (node, frame) => {
    if (node === 'offline') return false;
    sent.push({ node, packets: decodeRelayFrame(frame)! });
    return true;
  });
  return { index, relay, sent };
}

describe('relay frames', () => {
  it('carry length-prefixed packets on channel 0 and refuse a truncated one', () => {
    const ps = [packet('10.42.0.5', '10.42.1.7', 3), packet('10.42.0.6', '10.42.2.9', 1400)];
    const f = encodeRelayFrame(ps);
    expect(isRelayFrame(f)).toBe(true);
    expect(decodeRelayFrame(f)!.map((b) => Buffer.from(b))).toEqual(ps);
    expect(decodeRelayFrame(f.subarray(0, f.length - 1))).toBeUndefined();
    expect(ipv4Ends(ps[0]!)).toEqual({ src: 0x0a2a0005, dst: 0x0a2a0107 });
    expect(ipv4Ends(Buffer.from([0x60, ...Buffer.alloc(39)]))).toBeUndefined();
  });
});

describe('the server relay', () => {
  it('forwards only from the sender\'s own pod CIDR to another node\'s, grouped per destination', () => {
    const { relay, sent } = relayOf({ a: '10.42.0.0/24', b: '10.42.1.0/24', c: '10.42.2.0/24' });
    relay.forward('a', encodeRelayFrame([
      packet('10.42.0.5', '10.42.1.7'),
      packet('10.42.0.5', '10.42.2.7'),
      packet('10.42.1.9', '10.42.2.7'), // spoofed: b's address sent by a
      packet('10.42.0.5', '10.42.0.9'), // to itself
      packet('10.42.0.5', '192.168.1.1'), // not a pod: the relay is no way out of the cluster
      packet('10.42.0.6', '10.42.1.8'),
    ]));
    expect(sent.map((s) => [s.node, s.packets.map((p) => ipv4Ends(p)!.dst.toString(16))])).toEqual([
      ['b', ['a2a0107', 'a2a0108']],
      ['c', ['a2a0207']],
    ]);
    expect(relay.counters).toMatchObject({ packets: 3, refused: 3, undeliverable: 0 });
    expect(relay.activePairs()).toBe(2);
  });

  it('passes a frame of one flow on unchanged, and counts what cannot be delivered', () => {
    const { relay, sent } = relayOf({ a: '10.42.0.0/24', b: '10.42.1.0/24', offline: '10.42.9.0/24' });
    relay.forward('a', encodeRelayFrame([packet('10.42.0.5', '10.42.1.7', 100), packet('10.42.0.5', '10.42.1.7', 1300)]));
    expect(sent).toHaveLength(1);
    expect(relay.counters.bytes).toBe(120 + 1320);
    relay.forward('a', encodeRelayFrame([packet('10.42.0.5', '10.42.9.7')]));
    expect(relay.counters.undeliverable).toBe(1);
    relay.forward('a', Buffer.from([0, 0, 0, 0, 0, 9, 1]));
    expect(relay.counters.refused).toBe(1);
  });

  it('follows pod CIDR changes: a deleted node is no destination, and a node without one sends nothing', () => {
    const { index, relay, sent } = relayOf({ a: '10.42.0.0/24', b: '10.42.1.0/24' });
    index.set('b', undefined);
    relay.forward('a', encodeRelayFrame([packet('10.42.0.5', '10.42.1.7')]));
    relay.forward('b', encodeRelayFrame([packet('10.42.1.5', '10.42.0.7')]));
    expect(sent).toEqual([]);
    index.set('b', '10.42.16.0/20');
    relay.forward('a', encodeRelayFrame([packet('10.42.0.5', '10.42.31.7')]));
    expect(sent.map((s) => s.node)).toEqual(['b']);
    expect(index.nodeOf(0x0a2a2007)).toBeUndefined();
  });
});

describe('the relay channel on a link', () => {
  function pair(agentTransport?: (t: LinkTransport) => LinkTransport) {
    const [agentEnd, serverEnd] = inProcessLinkPair();
    const got: Buffer[] = [];
    const common = { keepalive: { pingAfterMs: 60_000, deadAfterMs: 70_000 }, closedError: () => new Error('closed'), streamsClosedMessage: 'closed', log: silentLogger() };
    const server = new LinkPeer<AgentMessage, ServerMessage>({ ...common, transport: serverEnd, self: 'server', other: 'agent', parse: parseAgentMessage, onMessage: () => undefined, onRelay: (f) => got.push(f) });
    const agent = new LinkPeer<ServerMessage, AgentMessage>({ ...common, transport: agentTransport ? agentTransport(agentEnd) : agentEnd, self: 'agent', other: 'server', parse: parseServerMessage, onMessage: () => undefined });
    return { server, agent, got };
  }

  it('delivers relay frames to onRelay, never to a stream', async () => {
    const { server, agent, got } = pair();
    const s = server.openStream(1);
    const onStream: Buffer[] = [];
    s.on('data', (b: Buffer) => onStream.push(b));
    expect(agent.sendRelay(encodeRelayFrame([packet('10.42.0.5', '10.42.1.7')]))).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(1);
    expect(onStream).toEqual([]);
    agent.close(1000, 'done');
    server.close(1000, 'done');
  });

  it('drops a relay frame instead of queueing it behind a backed-up link', async () => {
    let backlog = 0;
    const { server, agent, got } = pair((t) => ({
      attach: (h) => t.attach(h),
      get open() {
        return t.open;
      },
      get bufferedBytes() {
        return backlog;
      },
      sendText: (d) => t.sendText(d),
      sendBinary: (f) => t.sendBinary(f),
      ping: () => t.ping(),
      close: (c, r) => t.close(c, r),
      terminate: () => t.terminate(),
    }));
    backlog = RELAY_MAX_BUFFERED_BYTES + 1;
    expect(agent.sendRelay(encodeRelayFrame([packet('10.42.0.5', '10.42.1.7')]))).toBe(false);
    backlog = 0;
    expect(agent.sendRelay(encodeRelayFrame([packet('10.42.0.5', '10.42.1.7')]))).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(1);
    agent.close(1000, 'done');
    server.close(1000, 'done');
  });
});
