/**
 * What the server knows of each agent's link, for /metrics (src/server/metrics): connects and
 * disconnects, message payload bytes each way and when the agent was last heard, per node. Plain
 * numbers kept here on every frame; the metrics are computed from them only when scraped, so a
 * busy link pays an addition per frame, not a metrics-library call.
 *
 * Counted are the link's message payloads (WebSocket frame payloads: JSON text and stream bytes),
 * not WebSocket framing or TLS records, and only since this server started.
 */
import { tapTransport, type LinkTransport } from '../../common/link/transport.ts';
import { LINK_EVENTS_KEPT } from './types.ts';
import type { LinkEvent, LinkNodeTraffic, LinkTraffic } from './types.ts';

interface MutableTraffic {
  bytesIn: number;
  bytesOut: number;
  lastSeenMs: number;
  connects: number;
  disconnects: number;
  events: LinkEvent[];
}

function remember(t: MutableTraffic, e: LinkEvent): void {
  t.events.push(e);
  if (t.events.length > LINK_EVENTS_KEPT) t.events.splice(0, t.events.length - LINK_EVENTS_KEPT);
}

export class LinkTrafficCounter implements LinkTraffic {
  connects = 0;
  disconnects = 0;
  readonly #nodes = new Map<string, MutableTraffic>();
  readonly #connected: () => number;
  readonly #now: () => number;

  constructor(connected: () => number, now: () => number = Date.now) {
    this.#connected = connected;
    this.#now = now;
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
      t = { bytesIn: 0, bytesOut: 0, lastSeenMs: 0, connects: 0, disconnects: 0, events: [] };
      this.#nodes.set(node, t);
    }
    const traffic = t;
    this.connects++;
    traffic.connects++;
    traffic.lastSeenMs = this.#now();
    remember(traffic, { at: traffic.lastSeenMs, event: 'connected' });
    const heard = (bytes: number) => {
      traffic.bytesIn += bytes;
      traffic.lastSeenMs = this.#now();
    };
    return tapTransport(transport, {
      received: heard,
      sent: (bytes) => {
        traffic.bytesOut += bytes;
      },
      heard: () => heard(0),
      closed: (code, reason) => {
        this.disconnects++;
        traffic.disconnects++;
        remember(traffic, { at: this.#now(), event: 'disconnected', code, ...(reason ? { reason } : {}) });
      },
    });
  }
}
