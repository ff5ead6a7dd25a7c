/**
 * The links' bytes over time, for the console's "link bytes per hour" and a node's link history:
 * the link server counts totals since it started (link/link-traffic.ts); this samples them every
 * few minutes and keeps, per node that had traffic, the totals of the last hour's samples and the
 * bytes of the last 24 clock hours. Memory: ~40 numbers per node with traffic, none for the others.
 */
import type { LinkNodeTraffic, LinkTraffic } from '../link/types.ts';
import type { NodeLinkReport } from './types.ts';

const HOUR_MS = 3_600_000;
const HOURS_KEPT = 24;

interface NodeHistory {
  /** Totals (in + out) at recent samples, oldest first, spanning at most an hour. */
  samples: { at: number; total: number }[];
  lastIn: number;
  lastOut: number;
  hours: { start: number; bytesIn: number; bytesOut: number }[];
}

export class LinkHistory {
  readonly #nodes = new Map<string, NodeHistory>();
  readonly #links: () => LinkTraffic | undefined;
  readonly #now: () => number;

  constructor(links: () => LinkTraffic | undefined, now: () => number = Date.now) {
    this.#links = links;
    this.#now = now;
  }

  /** Takes one sample of every node's totals. */
  sample(): void {
    const now = this.#now();
    const hour = now - (now % HOUR_MS);
    for (const [node, t] of this.#links()?.nodes() ?? []) {
      const h = this.#nodes.get(node);
      if (!h) {
        // A node's first sample only sets the baseline: its earlier bytes have no known hour.
        this.#nodes.set(node, { samples: [{ at: now, total: t.bytesIn + t.bytesOut }], lastIn: t.bytesIn, lastOut: t.bytesOut, hours: [] });
        continue;
      }
      const dIn = t.bytesIn - h.lastIn;
      const dOut = t.bytesOut - h.lastOut;
      h.lastIn = t.bytesIn;
      h.lastOut = t.bytesOut;
      if (dIn + dOut > 0) {
        let bucket = h.hours.at(-1);
        if (!bucket || bucket.start !== hour) {
          bucket = { start: hour, bytesIn: 0, bytesOut: 0 };
          h.hours.push(bucket);
          while (h.hours.length > HOURS_KEPT || h.hours[0]!.start <= hour - HOURS_KEPT * HOUR_MS) h.hours.shift();
        }
        bucket.bytesIn += dIn;
        bucket.bytesOut += dOut;
      }
      h.samples.push({ at: now, total: t.bytesIn + t.bytesOut });
      // Keep the newest sample at least an hour old as the base of "the last hour".
      while (h.samples.length > 1 && h.samples[1]!.at <= now - HOUR_MS) h.samples.shift();
    }
  }

  /** Payload bytes over the last hour of one node's link, when it linked to this server. */
  bytesLastHour(node: string): number | undefined {
    const t = this.#links()?.nodes().get(node);
    if (!t) return undefined;
    return t.bytesIn + t.bytesOut - (this.#nodes.get(node)?.samples[0]?.total ?? 0);
  }

  /** Every node's report, or one node's. Bytes since the last sample count in the last hour and the current hour. */
  report(only?: string): Record<string, NodeLinkReport> {
    const out: Record<string, NodeLinkReport> = {};
    const nodes = this.#links()?.nodes();
    if (!nodes) return out;
    const now = this.#now();
    const add = (node: string, t: LinkNodeTraffic) => {
      const h = this.#nodes.get(node);
      const total = t.bytesIn + t.bytesOut;
      const base = h?.samples[0]?.total ?? 0;
      const hours = (h?.hours ?? []).map((x) => ({ ...x }));
      if (h) {
        const dIn = t.bytesIn - h.lastIn;
        const dOut = t.bytesOut - h.lastOut;
        const hour = now - (now % HOUR_MS);
        if (dIn + dOut > 0) {
          const last = hours.at(-1);
          if (last?.start === hour) {
            last.bytesIn += dIn;
            last.bytesOut += dOut;
          } else hours.push({ start: hour, bytesIn: dIn, bytesOut: dOut });
        }
      } else if (total > 0) hours.push({ start: now - (now % HOUR_MS), bytesIn: t.bytesIn, bytesOut: t.bytesOut });
      out[node] = { lastSeenMs: t.lastSeenMs, bytesLastHour: total - base, hours, events: t.events.map((e) => ({ ...e })), connects: t.connects, disconnects: t.disconnects };
    };
    if (only !== undefined) {
      const t = nodes.get(only);
      if (t) add(only, t);
    } else for (const [node, t] of nodes) add(node, t);
    return out;
  }
}
