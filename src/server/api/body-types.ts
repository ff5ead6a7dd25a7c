/**
 * Typed decoding of request bodies and patch results of built-in kinds (server/openapi/type-check):
 * a JSON value of the wrong kind is a 400 worded as kube-apiserver words its decoding errors,
 * `Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct
 * field PodSpec.spec.containers of type v1.Container`, with the exact field in details.causes.
 * Custom resources are checked against their CRD schema by admit.ts instead.
 */
import type { KubeObject } from '../kinds/types.ts';
import { typeMismatch } from '../openapi/type-check/index.ts';
import type { TypedKind } from '../openapi/type-check/index.ts';
import { ApiError } from '../storage/status.ts';

export function checkBodyTypes(obj: KubeObject, gvk: TypedKind & { readonly custom?: boolean }, opts: { keepNulls?: boolean } = {}): void {
  if (gvk.custom) return;
  const m = typeMismatch(gvk, obj, opts);
  if (!m) return;
  throw new ApiError(400, 'BadRequest', `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: ${m.message}`, {
    causes: [{ reason: 'FieldValueTypeInvalid', field: m.field, message: `Invalid value: expected ${m.expected}, got ${m.found}` }],
  });
}
