import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../kinds/types.ts';
import { unparsable } from './errors.ts';
import { isObject } from './json-value.ts';

/**
 * Parse an application/apply-patch+yaml body. kubectl sends JSON under that media type; YAML is a
 * superset, but JSON is tried first so large bodies take the fast path. YAML 1.2 core schema, as
 * sigs.k8s.io/yaml (no "yes"/"on" booleans).
 */
export function parseApplyBody(body: Buffer): KubeObject {
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      value = parseYaml(text, { schema: 'core', uniqueKeys: true });
    } catch (err) {
      throw unparsable(`error decoding YAML: ${(err as Error).message}`, err);
    }
  }
  if (!isObject(value)) throw unparsable('error decoding YAML: the apply configuration must be an object');
  return value as KubeObject;
}
