/**
 * Strategic merge patch (SMP) as the apiserver applies it for built-in kinds:
 * k8s.io/apimachinery/pkg/util/strategicpatch mergeMap/mergeSlice with the apiserver's options
 * (MergeParallelList and IgnoreUnmatchedNulls on). Lists merge by their `patchMergeKey`, primitive
 * lists with `patchStrategy:"merge"` merge as sets, every other list is replaced. Directives:
 * `$patch: replace|merge|delete` in maps and list items, `$retainKeys`, `$setElementOrder/<field>`,
 * `$deleteFromPrimitiveList/<field>`; `null` deletes a field.
 */
import { inapplicable, unparsable } from './errors.ts';
import { cloneJson, isObject, jsonEqual, type JsonObject } from './json-value.ts';
import { childSchema, elemSchema, isAssociative, type Schema } from './merge-keys.ts';

const patchDirective = '$patch';
const retainKeysDirective = '$retainKeys';
const setElementOrderPrefix = '$setElementOrder/';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList/';

function isDirectiveKey(k: string): boolean {
  return k === patchDirective || k === retainKeysDirective || k.startsWith(setElementOrderPrefix) || k.startsWith(deleteFromPrimitiveListPrefix);
}

/** Apply `patch` to a copy of `original`; `schema` describes the kind's lists. */
export function strategicMerge(original: JsonObject, patch: JsonObject, schema: Schema | undefined): JsonObject {
  return mergeMap(cloneJson(original), patch, schema);
}

// `original` is owned by this function (a fresh copy); `patch` is never modified.
function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema | undefined): JsonObject {
  const directive = patch[patchDirective];
  if (directive !== undefined) {
    // handleDirectiveInMergeMap: replace takes the patch as the new map, delete empties it.
    if (directive === 'replace') return mergeMap({}, withoutKey(patch, patchDirective), schema);
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw unparsable(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, schema);

  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      deleteFromPrimitiveList(original, key.slice(deleteFromPrimitiveListPrefix.length), value);
      continue;
    }
    if (isDirectiveKey(key)) continue;
    if (value === null) {
      delete original[key];
      continue;
    }
    // Lists with $setElementOrder were merged above.
    if (Object.hasOwn(patch, `${setElementOrderPrefix}${key}`)) continue;
    original[key] = mergeValue(original[key], value, childSchema(schema, key));
  }
  return original;
}

/** Merge one field's patch value into its current value (undefined when absent). */
function mergeValue(current: unknown, value: unknown, schema: Schema | undefined): unknown {
  if (isObject(value)) {
    // A new map is merged into an empty one so its directives and nulls are dropped.
    return mergeMap(isObject(current) ? current : {}, value, schema);
  }
  if (Array.isArray(value)) {
    return mergeList(Array.isArray(current) ? current : [], value, schema);
  }
  return value;
}

function mergeList(original: unknown[], patch: unknown[], schema: Schema | undefined): unknown[] {
  if (schema?.type !== 'list' || schema.strategy !== 'merge') return cleanList(patch, elemSchema(schema));
  if (original.length === 0 && patch.length === 0) return original;
  if (patch.some(Array.isArray) || original.some(Array.isArray)) throw inapplicable('lists of lists are not supported');
  if (!isAssociative(schema)) {
    // Primitive set (finalizers, podCIDRs): union, keeping first occurrences.
    const merged = dedupe([...original, ...patch]);
    return orderElements(merged, patch, original, undefined);
  }
  const mergeKey = schema.mergeKey;
  const elem = elemSchema(schema);
  const { remaining, items, replace } = specialElements(original, patch, mergeKey);
  const merged = mergeByKey(remaining, items, mergeKey, elem);
  // With `$patch: replace` the patch items are the whole list, in patch order.
  return replace ? orderElements(merged, [], items, mergeKey) : orderElements(merged, items, original, mergeKey);
}

/** mergeSliceWithSpecialElements: `$patch: delete` items remove by key, `$patch: replace` drops the original. */
function specialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): { remaining: unknown[]; items: JsonObject[]; replace: boolean } {
  let remaining = original;
  let replace = false;
  const items: JsonObject[] = [];
  for (const item of patch) {
    if (!isObject(item)) throw unparsable(`invalid patch: list item ${JSON.stringify(item)} is not an object but the list merges on key ${mergeKey}`);
    const directive = item[patchDirective];
    if (directive === undefined) {
      items.push(item);
    } else if (directive === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) throw unparsable(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
      remaining = remaining.filter((o) => !(isObject(o) && jsonEqual(o[mergeKey], item[mergeKey])));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw unparsable('merging lists cannot yet be specified in the patch');
    } else {
      throw unparsable(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(item)}`);
    }
  }
  return { remaining: replace ? [] : remaining, items, replace };
}

/** mergeSliceWithoutSpecialElements: merge items with the same key, append the others. */
function mergeByKey(original: unknown[], items: JsonObject[], mergeKey: string, elem: Schema | undefined): unknown[] {
  const merged = [...original];
  for (const item of items) {
    if (!Object.hasOwn(item, mergeKey)) throw unparsable(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const at = merged.findIndex((o) => isObject(o) && jsonEqual(o[mergeKey], item[mergeKey]));
    if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, item, elem);
    else merged.push(mergeMap({}, item, elem));
  }
  return merged;
}

/**
 * normalizeElementOrder: items named by `order` (the patch list or `$setElementOrder`) come in that
 * order; items only on the server keep their original relative order; the two runs are merged by
 * server position (mergeSortedSlice), where items the server did not have count as position -1.
 */
function orderElements(merged: unknown[], order: unknown[], serverOrder: unknown[], mergeKey: string | undefined): unknown[] {
  const identity = (v: unknown): unknown => (mergeKey !== undefined && isObject(v) ? v[mergeKey] : v);
  const indexIn = (list: unknown[], v: unknown): number => list.findIndex((x) => jsonEqual(identity(x), identity(v)));
  const left = merged.filter((v) => indexIn(order, v) >= 0).sort((a, b) => indexIn(order, a) - indexIn(order, b));
  const right = merged.filter((v) => indexIn(order, v) < 0).sort((a, b) => indexIn(serverOrder, a) - indexIn(serverOrder, b));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]);
    else if (i >= left.length) out.push(right[j++]);
    else {
      // An item new to the server has index -1, so new items go before server-only ones.
      const li = indexIn(serverOrder, left[i]);
      const ri = indexIn(serverOrder, right[j]);
      if (li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** `$setElementOrder/<field>`: merge that field's list now and order it as the directive says. */
function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: Schema | undefined): void {
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const field = key.slice(setElementOrderPrefix.length);
    if (!Array.isArray(order)) throw unparsable('invalid patch format of setElementOrder list');
    const fieldSchema = childSchema(schema, field);
    const patchList = patch[field];
    if (patchList !== undefined && patchList !== null && !Array.isArray(patchList)) {
      throw unparsable('invalid patch format of setElementOrder list');
    }
    const current = original[field];
    if (patchList === null) continue; // the field is deleted by the main loop.
    if (current === undefined && patchList === undefined) continue;
    const originalList = Array.isArray(current) ? current : [];
    const merged = patchList === undefined ? originalList : mergeList(originalList, patchList, fieldSchema);
    const mergeKey = isAssociative(fieldSchema) ? fieldSchema.mergeKey : undefined;
    original[field] = orderElements(merged, order, originalList, mergeKey);
  }
}

/** `$retainKeys`: drop every field of the original the list does not name (applyRetainKeysDirective). */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const keep = patch[retainKeysDirective];
  if (!Array.isArray(keep)) throw unparsable('invalid patch format of retainKeys');
  const allowed = new Set(keep.map(String));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || isDirectiveKey(k)) continue;
    if (!allowed.has(k)) throw inapplicable("patch content doesn't match retainKeys list");
  }
  for (const k of Object.keys(original)) if (!allowed.has(k)) delete original[k];
}

/** `$deleteFromPrimitiveList/<field>`: remove these values from a primitive list. */
function deleteFromPrimitiveList(original: JsonObject, field: string, values: unknown): void {
  if (!Array.isArray(values)) throw unparsable('invalid patch format of primitive list');
  const current = original[field];
  if (!Array.isArray(current)) return;
  original[field] = current.filter((x) => !values.some((v) => jsonEqual(v, x)));
}

/** A list taken whole from the patch: maps inside lose directives and nulls like any new value. */
function cleanList(list: unknown[], elem: Schema | undefined): unknown[] {
  return list.map((v) => (isObject(v) ? mergeMap({}, v, elem) : Array.isArray(v) ? cleanList(v, undefined) : v));
}

function dedupe(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.some((o) => jsonEqual(o, v))) out.push(v);
  return out;
}

function withoutKey(obj: JsonObject, key: string): JsonObject {
  const { [key]: _dropped, ...rest } = obj;
  return rest;
}
