/**
 * The contract of the web console (docs/console.md): a browser application built at build time
 * (scripts/build-console.ts) and served by the server at /console/ from the executable. The
 * application holds no privilege of its own: it calls the real API with the bearer token the
 * person signs in with, so RBAC decides what it shows and does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthenticationResult, Decision, RequestAttributes } from '../auth/types.ts';
import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';
import type { LinkTraffic } from '../link/types.ts';

export const CONSOLE_PREFIX = '/console/';

/** The files of the built console, each served at /console/<name> (index.html also at /console/). */
export const CONSOLE_FILES = ['index.html', 'app.js', 'app.css'] as const;
export type ConsoleFile = (typeof CONSOLE_FILES)[number];

/** The SEA asset that carries a console file (scripts/build-sea.ts embeds them). */
export const consoleAsset = (file: ConsoleFile): string => `console/${file}`;

export type ConsoleAssets = ReadonlyMap<ConsoleFile, Buffer>;

/** The Content-Security-Policy of every console response: the page loads only its own two files and talks only to this server. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** GET: the links' bytes per node (`?node=` for one), for callers who may list Nodes. */
export const CONSOLE_LINKS_PATH = '/console/api/links';

/**
 * GET: the fleet's counts and one page of its nodes (fleet-view.ts), for callers who may list
 * Nodes: `?offset=&limit=&show=all|online|offline&q=&pool=`. With `?watch=1`, a stream of
 * `{"type":"CHANGED","revision":"…"}` lines, at most one a second, whenever the answer may have
 * changed (the page then asks again for what it shows).
 */
export const CONSOLE_FLEET_PATH = '/console/api/fleet';

export type { FleetAnswer, FleetQuery, FleetRow } from './fleet-types.ts';

/** A link opened or closed, as a node's history keeps it. */
export interface LinkEventReport {
  readonly at: number;
  readonly event: 'connected' | 'disconnected';
  /** For a disconnect: the WebSocket close code and reason, when there was one. */
  readonly code?: number;
  readonly reason?: string;
}

/** One node's link as GET CONSOLE_LINKS_PATH answers it. */
export interface NodeLinkReport {
  /** When the agent was last heard on its link, ms since the epoch. */
  readonly lastSeenMs: number;
  /** Payload bytes both ways over the last 60 minutes (to the sample interval's precision). */
  readonly bytesLastHour: number;
  /** Bytes per clock hour, oldest first, at most 24. */
  readonly hours: readonly { readonly start: number; readonly bytesIn: number; readonly bytesOut: number }[];
  /** Connects and disconnects since the server started, oldest first (the last 50). */
  readonly events: readonly LinkEventReport[];
  readonly connects: number;
  readonly disconnects: number;
}

export interface ConsoleRoutes {
  matches(url: URL): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Fills the fleet view from the store and starts its watches, in the background (the server
   * calls it once the API is up): the first fleet page then reads a view already current instead
   * of waiting for a list of every Node, Lease and Pod.
   */
  prepare(): void;
  /** Stops sampling the links and the fleet view's watches. */
  close(): void;
  /** The console's caches and their sizes (edgeos_cache_objects). */
  cacheSizes(): [string, number][];
}

export interface ConsoleRoutesOptions {
  /** The built files: from the executable's assets, or built from source on first use (a source run). */
  readonly load: () => Promise<ConsoleAssets>;
  /** The store the fleet view reads (absent before it opens). */
  readonly store: () => Store | undefined;
  readonly log?: Logger;
  /** Read when sampled: absent before the link server starts. */
  readonly links: () => LinkTraffic | undefined;
  /** The API's own authentication and authorization (absent before they exist: then 401/503). */
  readonly authenticate: (req: IncomingMessage) => Promise<AuthenticationResult>;
  readonly authorize: (attrs: RequestAttributes) => Promise<Decision> | undefined;
  /** How long one fleet change stream runs before it ends and the page opens a new one (default 5 min). */
  readonly streamMs?: number;
  /** How often link totals are sampled (default 5 min). */
  readonly sampleIntervalMs?: number;
  readonly now?: () => number;
}
