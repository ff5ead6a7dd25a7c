/**
 * The one place where store errors become Kubernetes Status errors (STYLE.md: translate at the
 * edge). Everything else in the API lets store errors propagate.
 */
import {
  ClosedError, CompactedError, ConflictError, DatabaseError, FutureRevisionError, InvalidKeyError,
  KeyExistsError, NotFoundError, ValueTooLargeError,
} from '../../store/errors.ts';
import { ApiError, alreadyExists, badRequest, conflict, expired, internalError, notFound, serviceUnavailable } from './status.ts';
import type { ResourceName } from './status.ts';

export function translateStoreError(err: unknown, r: ResourceName, name: string): unknown {
  if (err instanceof KeyExistsError) return alreadyExists(r, name);
  if (err instanceof ConflictError) return conflict(r, name);
  if (err instanceof NotFoundError) return notFound(r, name);
  if (err instanceof CompactedError) return expiredFor(err);
  if (err instanceof FutureRevisionError) {
    // apiserver answers a list/get at a future resourceVersion with 504 Timeout after waiting.
    return new ApiError(504, 'Timeout', `Too large resource version: ${err.requested}, current: ${err.current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    });
  }
  if (err instanceof ValueTooLargeError) {
    return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: ${err.message}`);
  }
  if (err instanceof InvalidKeyError) return badRequest(err.message);
  if (err instanceof ClosedError) return serviceUnavailable('the server is shutting down');
  // A datastore that is away for now (PostgreSQL restarting, a cut connection) is a 503: clients
  // retry it, and /readyz is red meanwhile. Every other database failure is the server's own.
  if (err instanceof DatabaseError && err.code === 'STORE_UNAVAILABLE') return serviceUnavailable(err.message);
  if (err instanceof DatabaseError) return internalError(err.message, err);
  return err;
}

/** apiserver's wording for a read or watch below the compacted revision. */
export function expiredFor(err: CompactedError): ApiError {
  return expired(`too old resource version: ${err.requested} (${err.compacted + 1})`);
}
