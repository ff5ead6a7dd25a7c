// Kubernetes Status answers → the typed errors of the controller contract (the client is the
// one edge where HTTP statuses are translated).
import { AlreadyExistsError, ApiError, ConflictError, NotFoundError } from '../types.ts';

interface StatusBody {
  reason?: unknown;
  message?: unknown;
}

export function errorFromStatus(status: number, body: string, what: string): Error {
  let parsed: StatusBody = {};
  try {
    parsed = JSON.parse(body) as StatusBody;
  } catch {
    // Not a Status (a proxy or a crash): keep the raw text as the message.
  }
  const reason = typeof parsed.reason === 'string' ? parsed.reason : '';
  const message = typeof parsed.message === 'string' ? parsed.message : body.slice(0, 500) || `HTTP ${status}`;
  const text = `${what}: ${message}`;
  if (status === 404) return new NotFoundError(text);
  if (status === 409 && reason === 'AlreadyExists') return new AlreadyExistsError(text);
  if (status === 409) return new ConflictError(text);
  return new ApiError(status, reason || `HTTP${status}`, text);
}
