/**
 * Shared by ConfigMap and Secret: key format (validation.IsConfigMapKey at `data[key]`), the 1 MiB
 * total (api.MaxSecretSize), and the `immutable: true` rule of ValidateConfigMapUpdate /
 * ValidateSecretUpdate.
 */
import { jsonEqual, map } from './access.ts';
import { forbidden, tooLong } from './field-errors.ts';
import { invalid } from './field-errors.ts';
import { isConfigMapKey } from './names.ts';
import type { FieldError, KubeObject } from './types.ts';

/** api.MaxSecretSize, also the ConfigMap limit. */
export const MAX_DATA_SIZE = 1024 * 1024;

export function validateDataKeys(data: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of Object.keys(map(data) ?? {}))
    for (const msg of isConfigMapKey(key)) errs.push(invalid(`${field}[${key}]`, key, msg));
  return errs;
}

/** Sum of value sizes; `decodedBase64` counts Secret data by decoded length. */
export function dataSize(data: unknown, decodedBase64: boolean): number {
  let total = 0;
  for (const v of Object.values(map(data) ?? {})) {
    if (typeof v !== 'string') continue;
    total += decodedBase64 ? Buffer.from(v, 'base64').length : Buffer.byteLength(v);
  }
  return total;
}

export function sizeError(total: number): FieldError[] {
  return total > MAX_DATA_SIZE ? [tooLong('', MAX_DATA_SIZE)] : [];
}

export function immutableDataRule(obj: KubeObject, old: KubeObject, fields: readonly string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!jsonEqual(obj[f] ?? {}, old[f] ?? {})) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}
