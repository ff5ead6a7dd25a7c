/**
 * Constructors for FieldError that render messages exactly like
 * k8s.io/apimachinery/pkg/util/validation/field (errors.go, ErrorBody): Required, Forbidden and
 * TooLong print no value; Invalid, NotSupported and Duplicate print the value the way Go's fmt does
 * (%q for strings, %v for numbers and booleans, %#v for maps and slices).
 */
import { EdgeosError } from '../../common/errors.ts';
import type { FieldError } from './types.ts';

/** Go's fmt rendering of a bad value, so `Invalid value: map[string]string{"app":"x"}` matches. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
    return JSON.stringify(value);
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === 'string')) {
      // %#v prints Go maps with sorted keys.
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(', ');
      return `map[string]string{${body}}`;
    }
    return JSON.stringify(value);
  }
  return String(value);
}

function withDetail(head: string, detail: string | undefined): string {
  return detail ? `${head}: ${detail}` : head;
}

export function required(field: string, detail?: string): FieldError {
  return { reason: 'FieldValueRequired', field, message: withDetail('Required value', detail) };
}

export function invalid(field: string, value: unknown, detail?: string): FieldError {
  return { reason: 'FieldValueInvalid', field, message: withDetail(`Invalid value: ${goValue(value)}`, detail) };
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  const detail = supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : undefined;
  return { reason: 'FieldValueNotSupported', field, message: withDetail(`Unsupported value: ${goValue(value)}`, detail) };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${goValue(value)}` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { reason: 'FieldValueForbidden', field, message: withDetail('Forbidden', detail) };
}

/** field.TooLong: "must have at most N bytes" (apimachinery ≥ 1.30). */
export function tooLong(field: string, maxBytes: number): FieldError {
  return { reason: 'FieldValueTooLong', field, message: `Too long: must have at most ${maxBytes} bytes` };
}

/** apimachinery validation.ValidateImmutableField. */
export const FIELD_IMMUTABLE = 'field is immutable';

export function immutable(field: string, value: unknown): FieldError {
  return invalid(field, value, FIELD_IMMUTABLE);
}

export function notFound(field: string, value: unknown): FieldError {
  return { reason: 'FieldValueNotFound', field, message: `Not found: ${goValue(value)}` };
}

/** Invalid with a value already rendered the way Go prints it (Stringer types, %#v structs). */
export function invalidRendered(field: string, rendered: string, detail?: string): FieldError {
  return { reason: 'FieldValueInvalid', field, message: withDetail(`Invalid value: ${rendered}`, detail) };
}

/** A write hook refused a field (a ClusterIP that is taken): the API answers 422 Invalid with these causes. */
export class FieldRejectedError extends EdgeosError {
  readonly errors: readonly FieldError[];
  constructor(errors: readonly FieldError[]) {
    super('KIND_FIELD_REJECTED', errors.map((e) => `${e.field}: ${e.message}`).join(', '));
    this.errors = errors;
  }
}

/** A write hook could not allocate what the write needs (the service range is full): the API answers 500, as apiserver's NewInternalError. */
export class AllocationFailedError extends EdgeosError {
  constructor(message: string) {
    super('KIND_ALLOCATION_FAILED', message);
  }
}
