/**
 * IntOrString percentages in rolling-update strategies: apps validation
 * ValidatePositiveIntOrPercent and IsNotMoreThan100Percent. IntOrString implements fmt.Stringer,
 * so upstream prints the bad value unquoted (e.g. `Invalid value: 25x`).
 */
import { invalidRendered } from './field-errors.ts';
import { regexError } from './names.ts';
import type { FieldError } from './types.ts';

/** The value as a number of percent or an absolute count. */
export function intOrPercent(v: unknown): { percent: boolean; value: number } | undefined {
  if (typeof v === 'number') return { percent: false, value: v };
  if (typeof v === 'string' && /^[0-9]+%$/.test(v)) return { percent: true, value: Number(v.slice(0, -1)) };
  return undefined;
}

export function validatePositiveIntOrPercent(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') {
    if (!/^[0-9]+%$/.test(v))
      return [invalidRendered(path, v, regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%'))];
    if (Number(v.slice(0, -1)) > 100) return [invalidRendered(path, v, 'must not be greater than 100%')];
    return [];
  }
  if (typeof v === 'number') return v < 0 ? [invalidRendered(path, String(v), 'must be greater than or equal to 0')] : [];
  return [invalidRendered(path, JSON.stringify(v), "must be an integer or percentage (e.g '5%')")];
}
