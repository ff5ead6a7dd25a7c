/**
 * The object side of server-side apply (structured-merge-diff typed.Merge and RemoveItems): merge an
 * apply configuration into the live object, and remove fields an applier gave up.
 */
import { itemElement } from './field-walk.ts';
import { splitPath, type FieldPath } from './field-path.ts';
import { cloneJson, isObject, jsonEqual, type JsonObject } from './json-value.ts';
import { childSchema, elemSchema, type ListSchema, type Schema } from './merge-keys.ts';

/**
 * Merge `applied` into `live`: structs and maps merge field by field, associative lists merge item by
 * item (new items are appended), sets take the union, atomic lists and atomic structs are replaced.
 */
export function mergeApplied(live: JsonObject, applied: JsonObject, schema: Schema | undefined): JsonObject {
  return mergeObject(cloneJson(live), applied, schema);
}

function mergeObject(live: JsonObject, applied: JsonObject, s: Schema | undefined): JsonObject {
  for (const [k, v] of Object.entries(applied)) {
    // An explicit null in an apply configuration clears the field.
    if (v === null) delete live[k];
    else live[k] = mergeValue(live[k], v, childSchema(s, k));
  }
  return live;
}

function mergeValue(live: unknown, applied: unknown, s: Schema | undefined): unknown {
  if (isObject(applied)) {
    if (s?.type === 'struct' && s.atomic) return cloneJson(applied);
    return mergeObject(isObject(live) ? live : {}, applied, s);
  }
  if (Array.isArray(applied) && s?.type === 'list' && s.listType !== 'atomic' && Array.isArray(live)) {
    return mergeList(live, applied, s);
  }
  return cloneJson(applied);
}

function mergeList(live: unknown[], applied: unknown[], s: ListSchema): unknown[] {
  const out = [...live];
  const elem = elemSchema(s);
  for (const item of applied) {
    const e = itemElement(item, s);
    const at = e === undefined ? -1 : out.findIndex((x) => itemElement(x, s) === e);
    if (at < 0) out.push(cloneJson(item));
    else if (s.listType === 'map' && isObject(item) && isObject(out[at])) out[at] = mergeObject(out[at] as JsonObject, item, elem);
  }
  return out;
}

/** Remove the fields at `paths` from `obj` (in place). Paths that do not resolve are ignored. */
export function removeFields(obj: JsonObject, paths: Iterable<FieldPath>, schema: Schema | undefined): void {
  for (const path of paths) removeOne(obj, splitPath(path), schema);
}

function removeOne(root: JsonObject, elements: string[], schema: Schema | undefined): void {
  let container: unknown = root;
  let s = schema;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i] as string;
    const last = i === elements.length - 1;
    if (e.startsWith('f:')) {
      if (!isObject(container)) return;
      const name = e.slice(2);
      if (last) {
        delete container[name];
        return;
      }
      container = container[name];
      s = childSchema(s, name);
    } else {
      if (!Array.isArray(container) || s?.type !== 'list') return;
      const list = container;
      const listSchema = s;
      const at = list.findIndex((item, idx) => matches(item, idx, e, listSchema));
      if (at < 0) return;
      if (last) {
        list.splice(at, 1);
        return;
      }
      container = list[at];
      s = elemSchema(listSchema);
    }
  }
}

function matches(item: unknown, index: number, element: string, s: ListSchema): boolean {
  if (element.startsWith('i:')) return Number(element.slice(2)) === index;
  if (element.startsWith('v:')) return jsonEqual(JSON.parse(element.slice(2)), item);
  return itemElement(item, s) === element;
}
