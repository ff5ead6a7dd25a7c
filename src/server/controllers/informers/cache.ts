// The in-memory store behind an informer (client-go's thread-safe indexer): objects by key, a
// namespace index, and named secondary indexes kept up to date on every change.
import { selectorMatches } from '../../kinds/index.ts';
import { objectKey } from '../keys.ts';
import type { KubeObject, LabelSelector } from '../types.ts';

interface Index<T> {
  readonly fn: (obj: T) => readonly string[];
  readonly values: Map<string, Set<string>>;
}

export class ObjectCache<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexes = new Map<string, Index<T>>();

  constructor() {
    this.addIndex('namespace', (o) => [o.metadata.namespace ?? '']);
  }

  get size(): number {
    return this.#items.size;
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#items.get(namespace ? `${namespace}/${name}` : name);
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }

  list(namespace?: string, selector?: LabelSelector | Record<string, string>): T[] {
    const base = namespace ? this.byIndex('namespace', namespace) : [...this.#items.values()];
    if (!selector) return base;
    const sel = isLabelSelector(selector) ? selector : { matchLabels: selector };
    return base.filter((o) => selectorMatches(sel, o.metadata.labels ?? {}));
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.values.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.#items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  addIndex(name: string, fn: (obj: T) => readonly string[]): void {
    const idx: Index<T> = { fn, values: new Map() };
    this.#indexes.set(name, idx);
    for (const [k, o] of this.#items) this.#indexAdd(idx, k, o);
  }

  /** Store `obj`; returns the previous object under its key. */
  put(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) for (const idx of this.#indexes.values()) this.#indexRemove(idx, key, old);
    this.#items.set(key, obj);
    for (const idx of this.#indexes.values()) this.#indexAdd(idx, key, obj);
    return old;
  }

  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    for (const idx of this.#indexes.values()) this.#indexRemove(idx, key, old);
    this.#items.delete(key);
    return old;
  }

  #indexAdd(idx: Index<T>, key: string, obj: T): void {
    for (const v of safeValues(idx, obj)) {
      let set = idx.values.get(v);
      if (!set) idx.values.set(v, (set = new Set()));
      set.add(key);
    }
  }

  #indexRemove(idx: Index<T>, key: string, obj: T): void {
    for (const v of safeValues(idx, obj)) {
      const set = idx.values.get(v);
      set?.delete(key);
      if (set?.size === 0) idx.values.delete(v);
    }
  }
}

function safeValues<T>(idx: Index<T>, obj: T): readonly string[] {
  try {
    return idx.fn(obj);
  } catch {
    // An index function must never break the cache; a malformed object is simply not indexed.
    return [];
  }
}

function isLabelSelector(s: LabelSelector | Record<string, string>): s is LabelSelector {
  return typeof (s as LabelSelector).matchLabels === 'object' || Array.isArray((s as LabelSelector).matchExpressions);
}
