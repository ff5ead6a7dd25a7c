/**
 * `null` as Go decodes it: the zero value of the target. A struct field that is null is left at its
 * zero value, which encodes as an absent field here (omitempty); a null map value or list item
 * becomes the zero value of its element ("" for a label, 0, false, {} for a struct); nil slices,
 * maps, Times and RawExtensions stay null, as Go encodes them. So `labels: {a: null}` is stored as
 * `{a: ""}` and `containers: [null]` as `[{}]` (then validation names the missing fields), exactly
 * what kube-apiserver stores or rejects.
 */
import { ANY_VALUE, INT_OR_STRING, QUANTITY, SCHEMAS, refOf } from './components.ts';
import type { Schema } from './components.ts';

const KEEP = Symbol('keep null');

function zeroOf(s: Schema): unknown {
  const ref = refOf(s);
  if (ref === INT_OR_STRING) return 0;
  if (ref === QUANTITY) return '0';
  if (ref !== undefined && ANY_VALUE.has(ref)) return KEEP;
  const t = ref !== undefined ? SCHEMAS[ref] : s;
  if (t?.properties) return {};
  switch (t?.type) {
    case 'string':
      return t.format === 'date-time' ? KEEP : '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    default:
      return KEEP;
  }
}

function hasNull(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasNull);
  for (const k in v) if (hasNull((v as Record<string, unknown>)[k])) return true;
  return false;
}

function walk(value: unknown, schema: Schema): void {
  if (value === null || typeof value !== 'object') return;
  const ref = refOf(schema);
  if (ref !== undefined && (ANY_VALUE.has(ref) || ref === INT_OR_STRING || ref === QUANTITY)) return;
  const s = ref !== undefined ? (SCHEMAS[ref] ?? {}) : schema;
  if (Array.isArray(value)) {
    if (!s.items) return;
    for (let i = 0; i < value.length; i++) {
      if (value[i] !== null) walk(value[i], s.items);
      else {
        const zero = zeroOf(s.items);
        if (zero !== KEEP) value[i] = zero;
      }
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  if (s.properties) {
    for (const k of Object.keys(obj)) {
      const sub = s.properties[k];
      if (sub === undefined) continue;
      if (obj[k] === null) delete obj[k];
      else walk(obj[k], sub);
    }
  } else if (typeof s.additionalProperties === 'object') {
    const elem = s.additionalProperties;
    for (const k of Object.keys(obj)) {
      if (obj[k] !== null) walk(obj[k], elem);
      else {
        const zero = zeroOf(elem);
        if (zero !== KEEP) obj[k] = zero;
      }
    }
  }
}

/** Replace the nulls of a type-checked object of component `root` by Go's zero values, in place. */
export function zeroNulls(root: string, obj: object): void {
  if (hasNull(obj)) walk(obj, { $ref: `#/components/schemas/${root}` });
}
