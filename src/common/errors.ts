import type { ErrorCode } from './error-codes.ts';

export type { ErrorCode } from './error-codes.ts';

/**
 * One base error with a stable, public `code` (like undici's errors). Subsystems define one level of
 * subclasses; edges translate them (store conflict → Kubernetes Status 409, gRPC status → runtime
 * error). Every code is declared once in the catalogue (error-codes.ts); codes are public API.
 */
export class EdgeosError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A user-supplied value (flag, file, manifest) is wrong; the message says which and how to fix it. */
export class InvalidInputError extends EdgeosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT_INVALID', message, options);
  }
}

/** Narrow an unknown thrown value to a message without losing non-Error throws. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
