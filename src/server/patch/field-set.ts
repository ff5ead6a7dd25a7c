/**
 * Sets of field paths and their FieldsV1 form (the `fieldsV1` of metadata.managedFields entries):
 * a trie of path elements where `{}` marks a member with nothing below it and `".": {}` marks a
 * member that also has members below it (sigs.k8s.io/structured-merge-diff fieldpath/serialize.go).
 */
import type { FieldPath } from './field-path.ts';
import { joinPath } from './field-path.ts';
import { isObject, type JsonObject } from './json-value.ts';

export type FieldSet = ReadonlySet<FieldPath>;

export function union(a: FieldSet, b: FieldSet): Set<FieldPath> {
  return new Set([...a, ...b]);
}

export function difference(a: FieldSet, b: FieldSet): Set<FieldPath> {
  return new Set([...a].filter((p) => !b.has(p)));
}

export function intersection(a: FieldSet, b: FieldSet): Set<FieldPath> {
  return new Set([...a].filter((p) => b.has(p)));
}

/** Encode a set as FieldsV1 JSON. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  const members = new Set<JsonObject>();
  for (const path of set) {
    let node = root;
    for (const element of path.split('\u0000')) {
      const existing = node[element];
      const child: JsonObject = isObject(existing) ? existing : {};
      node[element] = child;
      node = child;
    }
    members.add(node);
  }
  // A member that also has children says so with ".".
  for (const node of members) if (Object.keys(node).length > 0) node['.'] = {};
  return sortTrie(root);
}

// Sorted keys make the JSON stable and match the order structured-merge-diff writes.
function sortTrie(node: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(node).sort()) out[k] = sortTrie(node[k] as JsonObject);
  return out;
}

/** Decode FieldsV1 JSON; malformed parts are skipped rather than failing the request. */
export function fromFieldsV1(fields: unknown): Set<FieldPath> {
  const out = new Set<FieldPath>();
  const walk = (node: JsonObject, path: FieldPath): void => {
    for (const [k, child] of Object.entries(node)) {
      if (k === '.') {
        if (path !== '') out.add(path);
        continue;
      }
      if (!isObject(child)) continue;
      const childPath = joinPath(path, k);
      if (Object.keys(child).length === 0) out.add(childPath);
      else walk(child, childPath);
    }
  };
  if (isObject(fields)) walk(fields, '');
  return out;
}
