/**
 * Turning objects into field sets, following sigs.k8s.io/structured-merge-diff:
 * - appliedFields: what an apply configuration sets (typed.ToFieldSet: leaves and list items; maps and
 *   structs are not members themselves, atomic lists and `+structType=atomic` structs are leaves);
 * - compareFields: what an update changed or removed (typed.Compare), used for Update entries and
 *   for apply conflicts.
 * Associative lists name their items by key (`k:`), sets by value (`v:`); lists without a listType
 * are atomic.
 */
import { ApplyRequestError } from './errors.ts';
import { fieldElement, formatPath, joinPath, keyElement, valueElement, type FieldPath, type PathElement } from './field-path.ts';
import { isObject, jsonEqual, type JsonObject } from './json-value.ts';
import { childSchema, elemSchema, type ListSchema, type Schema } from './merge-keys.ts';

/** The path element of a list item, or undefined when an associative item lacks a key field. */
export function itemElement(item: unknown, list: ListSchema): PathElement | undefined {
  if (list.listType === 'set') return valueElement(item);
  if (!isObject(item)) return undefined;
  const key: Record<string, unknown> = {};
  for (const k of list.keys ?? []) {
    const v = item[k] ?? list.keyDefaults?.[k];
    if (v === undefined || v === null) return undefined;
    key[k] = v;
  }
  return keyElement(key);
}

function isGranularList(s: Schema | undefined): s is ListSchema {
  return s?.type === 'list' && s.listType !== 'atomic';
}

function isAtomicStruct(s: Schema | undefined): boolean {
  return s?.type === 'struct' && s.atomic === true;
}

/** Fields an apply configuration sets. Throws 400 for an associative item without its key. */
export function appliedFields(obj: JsonObject, schema: Schema | undefined): Set<FieldPath> {
  const out = new Set<FieldPath>();
  const walkFields = (value: JsonObject, path: FieldPath, s: Schema | undefined): void => {
    for (const [k, v] of Object.entries(value)) {
      if (v !== null) walk(v, joinPath(path, fieldElement(k)), childSchema(s, k));
    }
  };
  const walk = (value: unknown, path: FieldPath, s: Schema | undefined): void => {
    if (isObject(value)) {
      if (isAtomicStruct(s) || Object.keys(value).length === 0) out.add(path);
      else walkFields(value, path, s);
    } else if (Array.isArray(value) && value.length > 0 && isGranularList(s)) {
      // An empty list, like an empty map, is a leaf (structured-merge-diff emptyPromoteToLeaf).
      value.forEach((item, i) => {
        const element = itemElement(item, s);
        if (element === undefined) {
          throw new ApplyRequestError(
            `${formatPath(path)}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(missingKey(item, s))} (and doesn't have default value)`,
          );
        }
        const itemPath = joinPath(path, element);
        if (out.has(itemPath)) throw new ApplyRequestError(`${formatPath(path)}: duplicate entries for key ${formatPath(element)}`);
        out.add(itemPath);
        if (isObject(item) && s.listType === 'map') walkFields(item, itemPath, elemSchema(s));
      });
    } else {
      out.add(path);
    }
  };
  walkFields(obj, '', schema);
  return out;
}

function missingKey(item: unknown, list: ListSchema): string {
  const keys = list.keys ?? [];
  if (!isObject(item)) return keys[0] ?? '';
  return keys.find((k) => item[k] === undefined && list.keyDefaults?.[k] === undefined) ?? keys[0] ?? '';
}

export interface Comparison {
  /** Added or modified fields. */
  readonly changed: Set<FieldPath>;
  readonly removed: Set<FieldPath>;
}

/** Fields that differ between two versions of an object (undefined = the object did not exist). */
export function compareFields(before: JsonObject | undefined, after: JsonObject | undefined, schema: Schema | undefined): Comparison {
  const result: Comparison = { changed: new Set(), removed: new Set() };
  diffFields(before ?? {}, after ?? {}, '', schema, result);
  return result;
}

/** Every field of an object as an Update would own it (an object created from nothing). */
export function allFields(obj: JsonObject, schema: Schema | undefined): Set<FieldPath> {
  return compareFields(undefined, obj, schema).changed;
}

function diffFields(a: JsonObject, b: JsonObject, path: FieldPath, s: Schema | undefined, out: Comparison): void {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    diff(a[k], b[k], joinPath(path, fieldElement(k)), childSchema(s, k), out);
  }
}

function diff(a: unknown, b: unknown, path: FieldPath, s: Schema | undefined, out: Comparison): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) return addAll(b, path, s, out.changed);
  if (b === undefined) return addAll(a, path, s, out.removed);
  if (isObject(a) && isObject(b) && !isAtomicStruct(s)) {
    // A map that was empty or absent before is itself new; a struct is not (see addAll).
    if (s?.type === 'map' && Object.keys(a).length === 0 && Object.keys(b).length > 0) out.changed.add(path);
    return diffFields(a, b, path, s, out);
  }
  if (Array.isArray(a) && Array.isArray(b) && isGranularList(s) && diffList(a, b, path, s, out)) return;
  if (jsonEqual(a, b)) return;
  if ((isObject(b) && !isAtomicStruct(s)) || (Array.isArray(b) && isGranularList(s))) {
    // The value changed shape: everything below the old value went, everything below the new came.
    addAll(a, path, s, out.removed);
    addAll(b, path, s, out.changed);
    return;
  }
  out.changed.add(path);
}

/** Compare a granular list item by item; false when items cannot be keyed (then it is atomic). */
function diffList(a: unknown[], b: unknown[], path: FieldPath, s: ListSchema, out: Comparison): boolean {
  const index = (list: unknown[]): Map<PathElement, unknown> | undefined => {
    const m = new Map<PathElement, unknown>();
    for (const item of list) {
      const e = itemElement(item, s);
      if (e === undefined) return undefined;
      m.set(e, item);
    }
    return m;
  };
  const before = index(a);
  const after = index(b);
  if (!before || !after) return false;
  for (const [e, item] of after) {
    const itemPath = joinPath(path, e);
    const old = before.get(e);
    if (old === undefined) addAll(item, itemPath, s, out.changed, true);
    else if (isObject(old) && isObject(item) && s.listType === 'map') diffFields(old, item, itemPath, elemSchema(s), out);
  }
  for (const [e, item] of before) if (!after.has(e)) addAll(item, joinPath(path, e), s, out.removed, true);
  return true;
}

/**
 * Add a value and what lies below it. List items and maps are members themselves (FieldsV1 shows
 * them with "."); structs are not, because the apiserver compares against the zero value of the Go
 * type, where non-pointer structs already exist (so managedFields never list `f:spec` itself).
 */
function addAll(v: unknown, path: FieldPath, s: Schema | undefined, into: Set<FieldPath>, isItem = false): void {
  const own = isItem ? elemSchema(s) : s;
  if (isItem) into.add(path);
  if (isObject(v)) {
    if (isAtomicStruct(own) || Object.keys(v).length === 0) {
      into.add(path);
      return;
    }
    if (own?.type === 'map') into.add(path);
    for (const [k, child] of Object.entries(v)) addAll(child, joinPath(path, fieldElement(k)), childSchema(own, k), into);
    return;
  }
  if (Array.isArray(v) && v.length > 0 && !isItem && isGranularList(own)) {
    for (const item of v) {
      const e = itemElement(item, own);
      if (e === undefined) {
        into.add(path);
        return;
      }
    }
    for (const item of v) addAll(item, joinPath(path, itemElement(item, own) as PathElement), own, into, true);
    return;
  }
  into.add(path);
}
