/**
 * What the server knows of each agent's link, for /metrics (src/server/metrics): connects and
 * disconnects, message payload bytes each way and when the agent was last heard, per node. Plain
 * numbers kept here on every frame; the metrics are computed from them only when scraped, so a
 * busy link pays an addition per frame, not a metrics-library call.
 *
 * Counted are the link's message payloads (WebSocket frame payloads: JSON text and stream bytes),
 * not WebSocket framing or TLS records, and only since this server started.
 */
import type { LinkTransport, LinkTransportHandlers } from '../../common/link/transport.ts';
import type { LinkNodeTraffic, LinkRelayTraffic, LinkTraffic } from './types.ts';

interface MutableTraffic {
  bytesIn: number;
  bytesOut: number;
  lastSeenMs: number;
}

export class LinkTrafficCounter implements LinkTraffic {
  connects = 0;
  disconnects = 0;
  readonly #nodes = new Map<string, MutableTraffic>();
  readonly #connected: () => number;
  readonly #now: () => number;
  readonly #relay: () => LinkRelayTraffic;

  constructor(connected: () => number, now: () => number = Date.now, relay: () => LinkRelayTraffic = () => ({ pairs: 0, packets: 0, bytes: 0, refused: 0, undeliverable: 0 })) {
    this.#connected = connected;
    this.#now = now;
    this.#relay = relay;
  }

  relay(): LinkRelayTraffic {
    return this.#relay();
  }

  connectedAgents(): number {
    return this.#connected();
  }

  nodes(): ReadonlyMap<string, LinkNodeTraffic> {
    return this.#nodes;
  }

  /** `transport`, counting what crosses it as `node`'s traffic; counts one connect now and one disconnect when it closes. */
  count(node: string, transport: LinkTransport): LinkTransport {
    let t = this.#nodes.get(node);
    if (!t) {
      t = { bytesIn: 0, bytesOut: 0, lastSeenMs: 0 };
      this.#nodes.set(node, t);
    }
    const traffic = t;
    this.connects++;
    traffic.lastSeenMs = this.#now();
    const heard = (bytes: number) => {
      traffic.bytesIn += bytes;
      traffic.lastSeenMs = this.#now();
    };
    return {
      attach: (h: LinkTransportHandlers) =>
        transport.attach({
          text: (data) => {
            heard(Buffer.byteLength(data));
            h.text(data);
          },
          binary: (frame) => {
            heard(frame.length);
            h.binary(frame);
          },
          heard: () => {
            heard(0);
            h.heard();
          },
          closed: (code, reason) => {
            this.disconnects++;
            h.closed(code, reason);
          },
        }),
      get open() {
        return transport.open;
      },
      get bufferedBytes() {
        return transport.bufferedBytes;
      },
      sendText: (data) => {
        if (transport.open) traffic.bytesOut += Buffer.byteLength(data);
        transport.sendText(data);
      },
      sendBinary: (frame) => {
        if (transport.open) traffic.bytesOut += frame.length;
        transport.sendBinary(frame);
      },
      ping: () => transport.ping(),
      close: (code, reason) => transport.close(code, reason),
      terminate: () => transport.terminate(),
    };
  }
}
