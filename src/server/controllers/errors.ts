// The errors of the controllers' API client (codes are public API): one class per answer a
// controller acts on (404, 409 Conflict, 409 AlreadyExists), ApiError for the rest.
import { EdgeosError } from '../../common/errors.ts';

/** Fields every API failure carries: the HTTP status and the Status object's reason/message. */
export interface ApiFailure {
  readonly status: number;
  readonly reason: string;
}

export class NotFoundError extends EdgeosError implements ApiFailure {
  readonly status = 404;
  readonly reason = 'NotFound';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROLLER_NOT_FOUND', message, options);
  }
}

export class ConflictError extends EdgeosError implements ApiFailure {
  readonly status = 409;
  readonly reason = 'Conflict';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROLLER_CONFLICT', message, options);
  }
}

export class AlreadyExistsError extends EdgeosError implements ApiFailure {
  readonly status = 409;
  readonly reason = 'AlreadyExists';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROLLER_ALREADY_EXISTS', message, options);
  }
}

/** Any other non-2xx answer (403, 422, 429 TooManyRequests from eviction, 5xx, …) or a transport failure (status 0). */
export class ApiError extends EdgeosError implements ApiFailure {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string, options?: { cause?: unknown }) {
    super('CONTROLLER_API_ERROR', message, options);
    this.status = status;
    this.reason = reason;
  }
}
