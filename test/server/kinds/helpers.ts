import type { FieldError, KubeObject } from '../../../src/server/kinds/types.ts';
import { builtinKind, present } from '../../../src/server/kinds/index.ts';

/** Errors as kubectl prints them after "is invalid: ". */
export function lines(errs: readonly FieldError[]): string[] {
  return errs.map((e) => `${e.field}: ${e.message}`);
}

/** A kind's strategy from its descriptor: defaults, validate and table (undefined when the kind has none). */
export function behavior(group: string, kind: string) {
  const k = builtinKind(group, kind);
  if (!k) throw new Error(`no descriptor for ${group}/${kind}`);
  return { default: present(k.defaults), validate: present(k.validate), table: present(k.table) };
}

/** Default then validate a new object, the order the API layer uses. */
export function admit(group: string, kind: string, obj: KubeObject, old?: KubeObject): string[] {
  const b = behavior(group, kind);
  b.default?.(obj);
  return lines(b.validate?.(obj, old) ?? []);
}

export function defaulted<T extends KubeObject>(group: string, kind: string, obj: T): T {
  behavior(group, kind).default?.(obj);
  return obj;
}

export const NOW = new Date('2026-01-10T12:00:00Z');

/** A timestamp `seconds` before NOW. */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function row(group: string, kind: string, obj: KubeObject): unknown[] {
  const table = behavior(group, kind).table;
  if (!table) throw new Error(`no table for ${kind}`);
  const cells = table.row(obj, NOW);
  if (cells.length !== table.columns.length) throw new Error(`${kind}: ${cells.length} cells for ${table.columns.length} columns`);
  return cells;
}

export function headers(group: string, kind: string, wide = false): string[] {
  const table = behavior(group, kind).table;
  return (table?.columns ?? []).filter((c) => wide || c.priority === 0).map((c) => c.name.toUpperCase());
}
