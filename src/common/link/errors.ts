import { EdgeosError } from '../errors.ts';
import { isLinkErrorCode } from './error-codes.ts';
import type { LinkErrorCode } from './error-codes.ts';

export { LinkErrorCode, isLinkErrorCode, linkErrorCodes } from './error-codes.ts';

/** A failure of the agent ↔ server link or of a stream over it. */
export class LinkError extends EdgeosError {
  declare readonly code: LinkErrorCode;
  /** The server asked to be tried again no sooner than this (a busy server's 503 Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(code, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The `error` of an ack for `err`: its link code when it has one, else `fallback`; its message either way. */
export function ackError(err: unknown, fallback: LinkErrorCode): { code: LinkErrorCode; message: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return { code: err instanceof EdgeosError && isLinkErrorCode(code) ? code : fallback, message: err instanceof Error ? err.message : String(err) };
}
