/**
 * Patch engines for PATCH requests: JSON Patch (RFC 6902), JSON merge patch (RFC 7386), strategic
 * merge patch for built-in kinds, and server-side apply with managedFields.
 */
import type { KubeObject } from '../kinds/types.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface ApplyRequest {
  /** The stored object, or undefined when the apply creates it. */
  readonly live: KubeObject | undefined;
  /** The applied configuration (already parsed from YAML/JSON). */
  readonly applied: KubeObject;
  readonly gvk: GroupVersionKind;
  /** fieldManager query parameter (required for apply). */
  readonly manager: string;
  /** force=true takes ownership of conflicting fields. */
  readonly force: boolean;
  /** RFC 3339 time for managedFields entries. */
  readonly now: string;
}

export interface ApplyConflict {
  /** The other manager, e.g. "kubectl-client-side-apply". */
  readonly manager: string;
  /** Field path as kubectl prints it, e.g. ".spec.replicas". */
  readonly field: string;
  /** apiVersion of the other manager's managedFields entry, e.g. "apps/v1". */
  readonly apiVersion?: string;
  /** The Status cause message, e.g. `conflict with "kubectl-client-side-apply" using apps/v1`. */
  readonly message?: string;
}

export type ApplyResult =
  | { readonly ok: true; readonly object: KubeObject }
  | { readonly ok: false; readonly conflicts: readonly ApplyConflict[] };

/**
 * A patch that cannot be applied; the API answers `status` with `message`: 422 for a patch that does
 * not apply, 400 for an unparsable body, 415 for a strategic merge patch of a custom resource.
 */
export interface PatchFailure {
  readonly status: 400 | 415 | 422;
  readonly message: string;
}
