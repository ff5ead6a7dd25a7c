import { EdgeosError } from '../errors.ts';

/**
 * The codes a link ack or a LinkError carries, with what each means. They travel between agents
 * and servers of different versions, so they are protocol: never renamed. The error catalogue
 * (src/common/error-codes.ts) takes them from here.
 */
export const linkErrorCodes = {
  TUNNEL_NO_AGENT: 'The node has no live link (NodeTunnel.open).',
  TUNNEL_FAILED: 'The agent refused or could not serve a tunnel request.',
  TUNNEL_RESET: 'A tunnel stream was reset by the other end or lost with its link.',
  LINK_PROTOCOL: 'The other end broke the protocol (unknown message, window exceeded).',
  LINK_CLOSED: 'The link closed while a request was outstanding.',
  LINK_REFUSED: 'The server refused a request of the agent (message from the server).',
  STATS_UNAVAILABLE: 'The agent cannot sample resource usage (it runs no container runtime, or the runtime failed).',
  STATS_TIMEOUT: 'The agent did not answer a stats request in time (metrics.k8s.io leaves the node out).',
} as const;

export type LinkErrorCode = keyof typeof linkErrorCodes;

/** A failure of the agent ↔ server link or of a stream over it. */
export class LinkError extends EdgeosError {
  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
