import { EdgeosError } from '../../common/errors.ts';

export type JoinErrorCode =
  /** No server URL of the token answered. */
  | 'JOIN_UNREACHABLE'
  /** The server's CA does not match the token's caHash: nothing was sent to it. */
  | 'JOIN_CA_MISMATCH'
  /** The server refused the token (unknown, deleted, wrong secret, expired). */
  | 'JOIN_TOKEN_REJECTED'
  /** A node of that name is already joined. */
  | 'JOIN_NODE_EXISTS'
  /** The data dir already holds a joined node. */
  | 'JOIN_ALREADY_JOINED'
  /** The data dir holds no joined node (`edgeos agent` before `edgeos join`). */
  | 'AGENT_NOT_JOINED'
  /** The server answered something unexpected. */
  | 'JOIN_FAILED';

/** A failed join; the message says what to do. Nothing is left in the data dir. */
export class JoinError extends EdgeosError {
  constructor(code: JoinErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
