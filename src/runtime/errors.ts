import type { AreaCode } from '../common/error-codes.ts';
import { EdgeosError } from '../common/errors.ts';

/**
 * Errors of the runtime subsystem. gRPC statuses are translated here and only here (cri/client.ts
 * calls fromGrpcStatus); the agent sees these codes, never grpc-js. Codes are public API.
 */
export class RuntimeError extends EdgeosError {
  constructor(code: AreaCode<'RUNTIME'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The sandbox, container or image the call names does not exist (gRPC NOT_FOUND). */
export class RuntimeNotFoundError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_NOT_FOUND', message, options);
  }
}

/** A name is already taken, e.g. a sandbox with the same metadata (gRPC ALREADY_EXISTS). */
export class RuntimeAlreadyExistsError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_ALREADY_EXISTS', message, options);
  }
}

/** containerd did not answer (socket missing, restarting) even after retries (gRPC UNAVAILABLE). */
export class RuntimeUnavailableError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_UNAVAILABLE', message, options);
  }
}

/** The call's deadline passed (gRPC DEADLINE_EXCEEDED) or a wait timed out. */
export class RuntimeTimeoutError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_TIMEOUT', message, options);
  }
}

/** The request was rejected as malformed or not possible in the current state. */
export class RuntimeInvalidRequestError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_INVALID_REQUEST', message, options);
  }
}

/** The runtime does not implement the call (gRPC UNIMPLEMENTED, e.g. an older containerd). */
export class RuntimeUnimplementedError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_UNIMPLEMENTED', message, options);
  }
}

/** Any other failure reported by the runtime (gRPC UNKNOWN, INTERNAL, …). */
export class RuntimeCallError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_CALL_FAILED', message, options);
  }
}

/** An image reference that cannot be parsed ("Bad Reference"; kubelet's InvalidImageName). */
export class ImageReferenceError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_IMAGE_INVALID_REFERENCE', message, options);
  }
}

/** The registry has no such image or tag (kubelet's ErrImagePull with "not found"). */
export class ImageNotFoundError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_IMAGE_NOT_FOUND', message, options);
  }
}

/** A pull failed for another reason: registry unreachable, unauthorized, corrupt layer. */
export class ImagePullError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_IMAGE_PULL_FAILED', message, options);
  }
}

/** An image tarball could not be imported into containerd. */
export class ImageImportError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_IMAGE_IMPORT_FAILED', message, options);
  }
}

/** The private containerd could not be started or exited and could not be restarted. */
export class ContainerdError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_CONTAINERD_FAILED', message, options);
  }
}

/** gRPC status codes (numeric, as grpc-js reports them) this module distinguishes. */
export const grpcCode = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  INVALID_ARGUMENT: 3,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const;

/** Translate a gRPC failure of `what` ("RunPodSandbox") into a RuntimeError. */
export function fromGrpcStatus(what: string, code: number | undefined, details: string, cause: unknown): RuntimeError {
  const message = `${what}: ${details}`;
  // containerd refuses a reused sandbox/container name with UNKNOWN "…: name is reserved".
  if (/name .* is reserved|name is reserved/.test(details)) return new RuntimeAlreadyExistsError(message, { cause });
  switch (code) {
    case grpcCode.NOT_FOUND: return new RuntimeNotFoundError(message, { cause });
    case grpcCode.ALREADY_EXISTS: return new RuntimeAlreadyExistsError(message, { cause });
    case grpcCode.UNAVAILABLE: return new RuntimeUnavailableError(message, { cause });
    case grpcCode.DEADLINE_EXCEEDED: return new RuntimeTimeoutError(message, { cause });
    case grpcCode.INVALID_ARGUMENT:
    case grpcCode.FAILED_PRECONDITION: return new RuntimeInvalidRequestError(message, { cause });
    case grpcCode.UNIMPLEMENTED: return new RuntimeUnimplementedError(message, { cause });
    default: return new RuntimeCallError(message, { cause });
  }
}

/**
 * containerd's CRI reports every pull failure as gRPC UNKNOWN; the reason is only in the text
 * ("failed to resolve reference …: not found", "…: invalid reference format"). Classify it so the
 * agent can tell InvalidImageName from ErrImagePull without parsing strings itself.
 */
export function classifyPullError(ref: string, err: RuntimeError): RuntimeError {
  const text = err.message;
  const opts = { cause: err };
  if (/invalid reference format|failed to parse image reference|repository name must be|Bad Reference/i.test(text)) {
    return new ImageReferenceError(`pull ${ref}: invalid image reference (${text})`, opts);
  }
  if (/: not found|manifest unknown|name unknown|404 Not Found/i.test(text) && !/unauthorized/i.test(text)) {
    return new ImageNotFoundError(`pull ${ref}: image not found (${text})`, opts);
  }
  if (err instanceof RuntimeUnavailableError || err instanceof RuntimeTimeoutError) return err;
  return new ImagePullError(`pull ${ref}: ${text}`, opts);
}
