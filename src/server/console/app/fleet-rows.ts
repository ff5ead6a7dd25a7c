// The fleet as the server's fleet view gives it (GET /console/api/fleet, src/server/console/
// fleet-view.ts): the counts at once, and the node rows a page of 100 at a time as the virtualised
// list needs them, offline first. One change stream (?watch=1) says when to ask again for what is
// shown; nothing is polled. An answer older than one already drawn (two requests crossing) is
// never drawn over it.
import { ApiError } from './api.ts';
import type { Api } from './api.ts';

/** FleetRow of src/server/console/types.ts. */
export interface FleetRow {
  readonly name: string;
  readonly pool: string;
  readonly online: boolean;
  readonly lastSeen?: string;
  readonly version: string;
  readonly arch: string;
  readonly pods: number | null;
  readonly bytesLastHour?: number;
}

/** FleetAnswer of src/server/console/types.ts. */
export interface FleetAnswer {
  readonly revision: string;
  readonly summary: { readonly total: number; readonly online: number; readonly offline: number; readonly pools: readonly { pool: string; total: number; online: number }[] };
  readonly matched: number;
  readonly offset: number;
  readonly rows: readonly FleetRow[];
}

export interface FleetParams {
  readonly show: string;
  readonly q: string;
  readonly pool?: string;
}

export const FLEET_PATH = '/console/api/fleet';
const PAGE = 100;

export class FleetRows {
  /** The newest answer drawn (its summary and match count). */
  answer: FleetAnswer | undefined;
  error: string | undefined;
  private pages = new Map<number, readonly FleetRow[]>();
  /** Pages of the previous answer, shown until their refresh arrives. */
  private stale = new Map<number, readonly FleetRow[]>();
  private readonly inflight = new Set<number>();
  private generation = 0;
  private latest = -1;
  private readonly ctrl = new AbortController();

  private readonly api: Api;
  private readonly params: () => FleetParams;
  private readonly onUpdate: () => void;

  constructor(api: Api, params: () => FleetParams, onUpdate: () => void) {
    this.api = api;
    this.params = params;
    this.onUpdate = onUpdate;
  }

  get count(): number {
    return this.answer?.matched ?? 0;
  }

  get(i: number): FleetRow | undefined {
    const p = Math.floor(i / PAGE);
    return (this.pages.get(p) ?? this.stale.get(p))?.[i % PAGE];
  }

  /** Rows first…last-1 are about to be drawn. */
  need(first: number, last: number): void {
    for (let p = Math.floor(first / PAGE); p <= Math.floor((last - 1) / PAGE); p++) {
      if (!this.pages.has(p) && !this.inflight.has(p)) void this.fetch(p);
    }
  }

  /** The filter changed: everything fetched is for another question. */
  reset(): void {
    this.generation++;
    this.pages.clear();
    this.stale.clear();
    this.inflight.clear();
    void this.fetch(0);
  }

  /** The fleet changed: ask again for the pages in view (the others when scrolled to). */
  refresh(first: number, last: number): void {
    this.generation++;
    for (const [p, rows] of this.pages) this.stale.set(p, rows);
    this.pages.clear();
    this.inflight.clear();
    if (last <= first) return void this.fetch(0);
    this.need(first, last);
  }

  stop(): void {
    this.ctrl.abort();
  }

  private async fetch(p: number): Promise<void> {
    const gen = this.generation;
    this.inflight.add(p);
    const { show, q, pool } = this.params();
    const query = new URLSearchParams({ offset: String(p * PAGE), limit: String(PAGE), show, q });
    if (pool !== undefined) query.set('pool', pool);
    try {
      const a = (await this.api.get(`${FLEET_PATH}?${query}`, this.ctrl.signal)) as FleetAnswer;
      if (gen !== this.generation) return;
      const rev = Number(a.revision);
      if (rev < this.latest) {
        // Older than what is drawn (requests crossed): ask again; the server's revision only grows.
        this.inflight.delete(p);
        return void this.fetch(p);
      }
      this.latest = rev;
      this.pages.set(p, a.rows);
      this.stale.delete(p);
      this.answer = a;
      this.error = undefined;
    } catch (err) {
      if (this.ctrl.signal.aborted || gen !== this.generation) return;
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      if (gen === this.generation) this.inflight.delete(p);
    }
    this.onUpdate();
  }

  /** Follows the server's change stream until stop(); `changed` is told on each change. */
  follow(changed: () => void): this {
    const signal = this.ctrl.signal;
    void (async () => {
      let backoff = 1000;
      let first = true;
      while (!signal.aborted) {
        try {
          await this.api.lines(`${FLEET_PATH}?watch=1`, (o: { type?: string }) => {
            // The stream's first line is where it starts, not a change (unless it is a reconnect).
            if (o.type === 'CHANGED' && !first) changed();
            first = false;
            backoff = 1000;
          }, signal);
          first = false;
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return;
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 10_000);
        }
      }
    })();
    return this;
  }
}
