/**
 * Narrowing helpers for reading and defaulting untyped JSON objects. Validators must cope with any
 * JSON the client sent, so every read goes through these instead of casts.
 */
export type JsonMap = Record<string, unknown>;

export function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function map(v: unknown): JsonMap | undefined {
  return isMap(v) ? v : undefined;
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function maps(v: unknown): JsonMap[] {
  return list(v).filter(isMap);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The object under key, created (and stored) when missing or not an object. */
export function child(obj: JsonMap, key: string): JsonMap {
  const v = obj[key];
  if (isMap(v)) return v;
  const fresh: JsonMap = {};
  obj[key] = fresh;
  return fresh;
}

/** Set obj[key] = value when the field is absent (null counts as absent, like Go's nil pointer). */
export function setDefault(obj: JsonMap, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

/** A map of string values (labels, selectors); non-string values are dropped. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(map(v) ?? {})) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Deep structural equality of JSON values, for immutability checks. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
