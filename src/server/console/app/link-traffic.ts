// The links' byte counts and history, which no Kubernetes object carries: the server keeps them in
// memory (src/server/console/link-history.ts, sampled every 5 minutes) and answers GET /console/api/links to those who may
// list Nodes. They change by the minute, so a page reads them once a minute (one request, not a
// watch: there is nothing to watch).
import type { Api } from './api.ts';

export interface LinkHour {
  /** Start of the hour, ms since the epoch. */
  readonly start: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** NodeLinkReport of src/server/console/types.ts. */
export interface NodeLink {
  readonly lastSeenMs: number;
  /** Bytes both ways over the last 60 minutes. */
  readonly bytesLastHour: number;
  readonly hours: readonly LinkHour[];
  /** Connects and disconnects since the server started, oldest first (the last 50). */
  readonly events: readonly { readonly at: number; readonly event: 'connected' | 'disconnected'; readonly code?: number; readonly reason?: string }[];
  readonly connects: number;
  readonly disconnects: number;
}

export const LINKS_PATH = '/console/api/links';

export function followLinks(api: Api, node: string | undefined, onData: (links: Record<string, NodeLink>) => void): () => void {
  let stopped = false;
  const load = () =>
    api.get(node ? `${LINKS_PATH}?node=${encodeURIComponent(node)}` : LINKS_PATH).then(
      (r) => !stopped && onData((r?.nodes ?? {}) as Record<string, NodeLink>),
      () => {},
    );
  void load();
  const timer = setInterval(load, 60_000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
