import type { KubeObject } from '../kinds/types.ts';
import { unparsable } from './errors.ts';
import { cloneJson, isObject, type JsonObject } from './json-value.ts';

/** Parse a patch body that must be a JSON object (merge and strategic merge patches). */
export function parseObjectPatch(body: Buffer, what: string): JsonObject {
  let patch: unknown;
  try {
    patch = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw unparsable(`error decoding ${what}: ${(err as Error).message}`, err);
  }
  if (!isObject(patch)) throw unparsable(`error decoding ${what}: the patch must be a JSON object`);
  return patch;
}

/**
 * RFC 7386 JSON merge patch, as gopkg.in/evanphx/json-patch MergePatch: objects merge key by key,
 * `null` deletes a key, every other value (lists included) replaces what was there.
 */
export function mergePatchValue(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatchValue(out[key], value);
  }
  return out;
}

/** Apply a merge patch body (what `kubectl label`, `scale` and apply of custom resources send). */
export function applyMergePatch(current: KubeObject, body: Buffer): KubeObject {
  const patch = parseObjectPatch(body, 'merge patch');
  return mergePatchValue(cloneJson(current), patch) as KubeObject;
}
