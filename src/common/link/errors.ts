import { EdgeosError } from '../errors.ts';

/**
 * Every code a link failure carries: a LinkError on either end, and the `error.code` of an ack
 * (marked "ack"). The set is closed: an ack never carries another code (a failure with a code
 * from elsewhere is sent as its context's code, its message kept: ackError). Codes are public
 * API: never rename one.
 */
export const LinkErrorCode = {
  /** The node has no live link (NodeTunnel.open, a stats request). */
  TUNNEL_NO_AGENT: 'TUNNEL_NO_AGENT',
  /** ack: the agent refused or could not serve a tunnel request. */
  TUNNEL_FAILED: 'TUNNEL_FAILED',
  /** A tunnel stream was reset by the other end or lost with its link. */
  TUNNEL_RESET: 'TUNNEL_RESET',
  /** ack: the other end broke the protocol (unknown message, second hello, window exceeded). */
  LINK_PROTOCOL: 'LINK_PROTOCOL',
  /** The link closed while a request was outstanding, or is down. */
  LINK_CLOSED: 'LINK_CLOSED',
  /** ack: the server refused a request of the agent (its message says why). */
  LINK_REFUSED: 'LINK_REFUSED',
  /** ack: the agent cannot sample resource usage (it runs no container runtime, or the runtime failed). */
  STATS_UNAVAILABLE: 'STATS_UNAVAILABLE',
  /** The agent did not answer a stats request in time (metrics.k8s.io leaves the node out). */
  STATS_TIMEOUT: 'STATS_TIMEOUT',
} as const;

export type LinkErrorCode = (typeof LinkErrorCode)[keyof typeof LinkErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(LinkErrorCode));

export function isLinkErrorCode(code: unknown): code is LinkErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

/** A failure of the agent ↔ server link or of a stream over it. */
export class LinkError extends EdgeosError {
  declare readonly code: LinkErrorCode;

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The `error` of an ack for `err`: its link code when it has one, else `fallback`; its message either way. */
export function ackError(err: unknown, fallback: LinkErrorCode): { code: LinkErrorCode; message: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return { code: err instanceof EdgeosError && isLinkErrorCode(code) ? code : fallback, message: err instanceof Error ? err.message : String(err) };
}
