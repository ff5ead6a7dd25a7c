/**
 * Every code a link failure carries: a LinkError on either end, and the `error.code` of an ack
 * (marked "ack"). The set is closed: an ack never carries another code (a failure with a code from
 * elsewhere is sent as its context's code, its message kept: ackError in errors.ts). The codes
 * travel between agents and servers of different versions, so they are protocol: never renamed.
 * The error catalogue (src/common/error-codes.ts) takes them, with their meanings, from here.
 * This file imports nothing, so the catalogue and the link's errors can both depend on it.
 */
export const linkErrorCodes = {
  TUNNEL_NO_AGENT: 'The node has no live link (NodeTunnel.open, a stats request).',
  TUNNEL_FAILED: 'ack: the agent refused or could not serve a tunnel request.',
  TUNNEL_RESET: 'A tunnel stream was reset by the other end or lost with its link.',
  LINK_PROTOCOL: 'ack: the other end broke the protocol (unknown message, second hello, window exceeded).',
  LINK_CLOSED: 'The link closed while a request was outstanding, or is down.',
  LINK_REFUSED: 'ack: the server refused a request of the agent (its message says why).',
  LINK_BUSY: 'ack: the server could not take a request of the agent now (its API answered 429 or 5xx, or failed): the agent sends it again.',
  STATS_UNAVAILABLE: 'ack: the agent cannot sample resource usage (it runs no container runtime, or the runtime failed).',
  STATS_TIMEOUT: 'The agent did not answer a stats request in time (metrics.k8s.io leaves the node out).',
} as const;

export type LinkErrorCode = keyof typeof linkErrorCodes;

/** The codes by name, for call sites: `LinkErrorCode.LINK_REFUSED`. */
export const LinkErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(linkErrorCodes).map((c) => [c, c])) as { readonly [C in LinkErrorCode]: C },
);

export function isLinkErrorCode(code: unknown): code is LinkErrorCode {
  return typeof code === 'string' && Object.hasOwn(linkErrorCodes, code);
}
