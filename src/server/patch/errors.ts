import type { AreaCode } from '../../common/error-codes.ts';
import { EdgeosError } from '../../common/errors.ts';
import type { PatchFailure } from './types.ts';

/** Status reasons the API server answers with, as in k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason. */
export type PatchStatusReason = 'BadRequest' | 'Invalid' | 'UnsupportedMediaType';

/**
 * A PATCH or apply request that cannot be carried out. `status` is the HTTP status the API answers
 * with (400 unparsable body, 415 patch type not accepted for this kind, 422 a well-formed patch that
 * does not apply to the object), `reason` the matching Status reason, `message` the Status message.
 */
export class PatchError extends EdgeosError implements PatchFailure {
  readonly status: 400 | 415 | 422;
  /** Same as `status` (the API server's handlers read this name). */
  readonly httpStatus: 400 | 415 | 422;
  readonly reason: PatchStatusReason;

  constructor(
    code: Exclude<AreaCode<'PATCH'>, 'PATCH_APPLY_INVALID'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.status = code === 'PATCH_UNPARSABLE' ? 400 : code === 'PATCH_INAPPLICABLE' ? 422 : 415;
    this.httpStatus = this.status;
    this.reason = code === 'PATCH_UNPARSABLE' ? 'BadRequest' : code === 'PATCH_INAPPLICABLE' ? 'Invalid' : 'UnsupportedMediaType';
  }
}

/** 400: the body is not JSON/YAML of the shape the patch type requires. */
export function unparsable(message: string, cause?: unknown): PatchError {
  return new PatchError('PATCH_UNPARSABLE', message, cause === undefined ? undefined : { cause });
}

/** 422: a well-formed patch that cannot be applied to this object. */
export function inapplicable(message: string, cause?: unknown): PatchError {
  return new PatchError('PATCH_INAPPLICABLE', message, cause === undefined ? undefined : { cause });
}

/**
 * 415 for a strategic merge patch of a custom resource: the apiserver's patch handler only offers
 * JSON patch, merge patch and apply for kinds without Go structs (k8s.io/apiserver
 * pkg/endpoints/handlers/patch.go), and answers with this exact text.
 */
export function strategicMergeNotSupported(): PatchError {
  return new PatchError(
    'PATCH_UNSUPPORTED_MEDIA_TYPE',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
  );
}

/** The apply request itself is malformed (missing fieldManager, managedFields set, …): 400. */
export class ApplyRequestError extends EdgeosError {
  readonly status = 400 as const;
  constructor(message: string) {
    super('PATCH_APPLY_INVALID', message);
  }
}
