/**
 * Typed decoding of built-in kinds: what kube-apiserver's decoder refuses before defaulting, a
 * JSON value of the wrong kind for its Go field (`"containers": [1]`, `"labels": 5`, a float in an
 * int32), is found by the ahead-of-time compiled ajv validators (scripts/gen-type-check.ts) and
 * described in Go's words (mismatch.ts); nulls become Go's zero values (nulls.ts).
 */
import { schemaName } from '../schema-names.ts';
import { describeMismatch } from './mismatch.ts';
import type { TypeMismatch } from './mismatch.ts';
import { zeroNulls } from './nulls.ts';
import { validators } from './validators.generated.js';

export type { TypeMismatch } from './mismatch.ts';

/** The group, version and kind whose schema a body is checked against. */
export interface TypedKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/**
 * Type-check an object of a built-in kind against its schema: the first mismatch, or undefined
 * when the object decodes. Then, unless `keepNulls` (a server-side apply configuration, where the
 * apply engine reads nulls itself), its nulls are replaced by zero values in place. Kinds without a
 * published schema are not checked.
 */
export function typeMismatch(gvk: TypedKind, obj: object, opts: { keepNulls?: boolean } = {}): TypeMismatch | undefined {
  const name = schemaName(gvk.group, gvk.version, gvk.kind);
  const validate = name === undefined ? undefined : validators[name];
  if (name === undefined || validate === undefined) return undefined;
  if (!validate(obj)) return describeMismatch(name, obj, validate.errors?.[0]?.instancePath ?? '');
  if (!opts.keepNulls) zeroNulls(name, obj);
  return undefined;
}
