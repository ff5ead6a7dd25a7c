/**
 * What the patch engines need to know about a kind's fields: which lists merge by key and which are
 * replaced whole. This mirrors the Go struct tags of k8s.io/api (`patchStrategy`, `patchMergeKey`)
 * that strategic merge patch reads, and the `+listType`, `+listMapKey`, `+structType` markers that
 * server-side apply (sigs.k8s.io/structured-merge-diff) reads. Fields not described fall back to the
 * defaults of both: objects merge field by field, lists are atomic.
 */

/** A Go struct: named fields, merged one by one. */
export interface StructSchema {
  readonly type: 'struct';
  readonly fields: Readonly<Record<string, Schema>>;
  /** `+structType=atomic`: server-side apply owns and replaces it as one value (SMP still merges). */
  readonly atomic?: boolean;
}

/** A Go map (labels, annotations, data, resources.limits): keys merge, each key is its own field. */
export interface MapSchema {
  readonly type: 'map';
  readonly values?: Schema;
}

/** A list. */
export interface ListSchema {
  readonly type: 'list';
  /**
   * SMP `patchStrategy`: 'merge' merges by `mergeKey` (or as a set for primitives), 'replace' swaps
   * the whole list.
   */
  readonly strategy: 'merge' | 'replace';
  /** SMP `patchMergeKey`. */
  readonly mergeKey?: string;
  /** SSA `+listType`: map (associative by `keys`), set (primitives), atomic. */
  readonly listType: 'map' | 'set' | 'atomic';
  /** SSA `+listMapKey`s, in the order they are declared. */
  readonly keys?: readonly string[];
  /** Values the apiserver defaults a missing key field to (ports' protocol), used to identify items. */
  readonly keyDefaults?: Readonly<Record<string, unknown>>;
  readonly elem?: Schema;
}

export type Schema = StructSchema | MapSchema | ListSchema;

export function struct(fields: Record<string, Schema>, opts: { atomic?: boolean } = {}): StructSchema {
  return { type: 'struct', fields, ...opts };
}

export function map(values?: Schema): MapSchema {
  return values ? { type: 'map', values } : { type: 'map' };
}

/** A list merged by key in both SMP and SSA. `keys` defaults to [mergeKey]. */
export function assoc(
  mergeKey: string,
  elem: StructSchema,
  opts: { keys?: string[]; keyDefaults?: Record<string, unknown>; applyAtomic?: boolean } = {},
): ListSchema {
  return {
    type: 'list',
    strategy: 'merge',
    mergeKey,
    listType: opts.applyAtomic ? 'atomic' : 'map',
    keys: opts.keys ?? [mergeKey],
    elem,
    ...(opts.keyDefaults ? { keyDefaults: opts.keyDefaults } : {}),
  };
}

/** A list of primitives merged as a set (`patchStrategy:"merge"`, `+listType=set`), e.g. finalizers. */
export function set(): ListSchema {
  return { type: 'list', strategy: 'merge', listType: 'set' };
}

/** A list without a merge strategy: replaced whole, owned as one field. */
export function atomic(elem?: Schema): ListSchema {
  return elem ? { type: 'list', strategy: 'replace', listType: 'atomic', elem } : { type: 'list', strategy: 'replace', listType: 'atomic' };
}

/** The schema of `key` inside an object described by `s` (undefined: not described). */
export function childSchema(s: Schema | undefined, key: string): Schema | undefined {
  if (!s) return undefined;
  if (s.type === 'struct') return s.fields[key];
  if (s.type === 'map') return s.values;
  return undefined;
}

/** The schema of the items of list `s`. */
export function elemSchema(s: Schema | undefined): Schema | undefined {
  return s?.type === 'list' ? s.elem : undefined;
}

export function isAssociative(s: Schema | undefined): s is ListSchema & { mergeKey: string } {
  return s?.type === 'list' && s.strategy === 'merge' && s.mergeKey !== undefined;
}
