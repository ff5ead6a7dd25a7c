/** Public surface of the patch engines, called by the API server's PATCH, create and update handlers. */
export type { ApplyConflict, ApplyRequest, ApplyResult, GroupVersionKind, PatchFailure, PatchType } from './types.ts';
export { patchTypeFromContentType } from './content-type.ts';
export { applyPatch } from './apply-patch.ts';
export { serverSideApply, applyConflictMessage } from './apply.ts';
export { recordUpdate, type ManagedFieldsEntry } from './managed-fields.ts';
export { isBuiltInKind } from './kind-schema.ts';
export { PatchError, ApplyRequestError, type PatchStatusReason } from './errors.ts';
export { parseApplyBody } from './apply-body.ts';
