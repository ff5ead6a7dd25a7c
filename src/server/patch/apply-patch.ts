import type { KubeObject } from '../kinds/types.ts';
import { strategicMergeNotSupported } from './errors.ts';
import { applyJsonPatch } from './json-patch.ts';
import { isBuiltInKind, schemaFor } from './kind-schema.ts';
import { applyMergePatch, parseObjectPatch } from './merge-patch.ts';
import { strategicMerge } from './strategic-merge.ts';
import type { GroupVersionKind, PatchType } from './types.ts';

/**
 * Apply a PATCH body of the given type to a stored object and return the patched copy (`current` is
 * never modified). Throws PatchError: 400 unparsable body, 415 strategic merge patch of a custom
 * resource (no Go struct to read merge keys from, as in Kubernetes), 422 a patch that does not apply.
 */
export function applyPatch(
  type: Exclude<PatchType, 'apply'>,
  current: KubeObject,
  patch: Buffer,
  gvk: GroupVersionKind,
): KubeObject {
  switch (type) {
    case 'json':
      return applyJsonPatch(current, patch);
    case 'merge':
      return applyMergePatch(current, patch);
    case 'strategic': {
      if (!isBuiltInKind(gvk)) throw strategicMergeNotSupported();
      const body = parseObjectPatch(patch, 'strategic merge patch');
      return strategicMerge(current, body, schemaFor(gvk)) as KubeObject;
    }
  }
}
