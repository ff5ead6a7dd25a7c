import { EdgeosError } from '../errors.ts';

export type LinkErrorCode =
  /** The node has no live link (NodeTunnel.open). */
  | 'TUNNEL_NO_AGENT'
  /** The agent refused or could not serve a tunnel request. */
  | 'TUNNEL_FAILED'
  /** A tunnel stream was reset by the other end or lost with its link. */
  | 'TUNNEL_RESET'
  /** The other end broke the protocol (unknown message, window exceeded). */
  | 'LINK_PROTOCOL'
  /** The link closed while a request was outstanding. */
  | 'LINK_CLOSED'
  /** The server refused a request of the agent (message from the server). */
  | 'LINK_REFUSED'
  /** The agent cannot sample resource usage (it runs no container runtime, or the runtime failed). */
  | 'STATS_UNAVAILABLE'
  /** The agent did not answer a stats request in time (metrics.k8s.io leaves the node out). */
  | 'STATS_TIMEOUT';

/** A failure of the agent ↔ server link or of a stream over it. */
export class LinkError extends EdgeosError {
  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
