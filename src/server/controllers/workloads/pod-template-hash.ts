/**
 * The pod-template-hash of Deployments (controller.ComputeHash): FNV-1a 32-bit over the template,
 * plus the collision count when set, printed as a decimal and mapped through
 * rand.SafeEncodeString's vowel-free alphabet — so names look like upstream's "web-7d4b9c6f5".
 * Upstream hashes Go's spew dump of the struct; we hash the canonical (key-sorted) JSON of the
 * stored, defaulted template instead, which is just as stable for our own objects.
 */
import { isMap } from '../../kinds/access.ts';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The template as Go sees it after decoding: null fields and empty objects are the zero value,
 * the same as absent (clients send `creationTimestamp: null` in templates — kubectl rollout undo
 * does). Used for both hashing and template equality.
 */
export function semanticValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(semanticValue);
  if (!isMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    const y = semanticValue(x);
    if (isMap(y) && Object.keys(y).length === 0) continue;
    out[k] = y;
  }
  return out;
}

/** JSON with object keys sorted, so the hash never depends on key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character becomes alphabet[charCode % 27]. */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** ComputeHash(template, collisionCount). */
export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  let text = canonicalJson(semanticValue(template));
  if (collisionCount !== undefined && collisionCount > 0) text += `#${collisionCount}`;
  return safeEncode(String(fnv32a(text)));
}
