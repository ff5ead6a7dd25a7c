/**
 * Custom resources against their CRD version's structural schema, as apiextensions-apiserver does:
 * unknown fields are pruned (or refused with fieldValidation=Strict, warned about with Warn) unless
 * x-kubernetes-preserve-unknown-fields, and type/required/enum/bounds/pattern/length/items
 * violations are 422 Invalid with one cause each, in the OpenAPI validator's words
 * (`spec.size in body must be of type integer: "string"`). metadata is ObjectMeta and validated
 * generically; apiVersion and kind are the URL's.
 */
import type { FieldError, KubeObject } from '../../kinds/types.ts';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
};

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function goValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null';
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(type: string, v: unknown): boolean {
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

/** Remove unknown fields in place; returns their paths. */
export function pruneUnknown(value: unknown, s: Schema | undefined, path: string, out: string[]): void {
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => pruneUnknown(v, s.items, `${path}[${i}]`, out));
    return;
  }
  if (!isMap(value)) return;
  if (s.properties) {
    for (const key of Object.keys(value)) {
      // The root's metadata, apiVersion and kind are not part of the CR schema's concern here.
      if (path === '' && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) continue;
      const sub = s.properties[key];
      if (sub) pruneUnknown(value[key], sub, child(path, key), out);
      else {
        out.push(child(path, key));
        delete value[key];
      }
    }
  } else if (isMap(s.additionalProperties)) {
    for (const key of Object.keys(value)) pruneUnknown(value[key], s.additionalProperties, child(path, key), out);
  } else if (s.type === 'object' && s.additionalProperties === undefined) {
    // An object schema without properties keeps nothing unless told to preserve unknown fields.
    for (const key of Object.keys(value)) {
      if (path === '' && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) continue;
      out.push(child(path, key));
      delete value[key];
    }
  }
}

/** Validate `value` against `s`; pushes FieldErrors in the apiserver's words. */
export function validateValue(value: unknown, s: Schema | undefined, path: string, errs: FieldError[]): void {
  if (!s) return;
  if (value === null || value === undefined) {
    if (value === null && !s.nullable && s.type) errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: "null": ${path} in body must be of type ${s.type}: "null"` });
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
      errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${goValue(value)}: ${path} in body must be of type integer,string: ${goValue(typeOf(value))}` });
    }
    return;
  }
  if (s.type && !typeMatches(s.type, value)) {
    errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${goValue(typeOf(value))}: ${path} in body must be of type ${s.type}: ${goValue(typeOf(value))}` });
    return;
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${goValue(value)}: supported values: ${s.enum.map(goValue).join(', ')}` });
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
      errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}` });
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
      errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}` });
    }
  }
  if (typeof value === 'string') {
    if (s.minLength !== undefined && [...value].length < s.minLength) {
      errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${goValue(value)}: ${path} in body should be at least ${s.minLength} chars long` });
    }
    if (s.maxLength !== undefined && [...value].length > s.maxLength) {
      errs.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${s.maxLength} bytes` });
    }
    if (s.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(value)) {
        errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${goValue(value)}: ${path} in body should match '${s.pattern}'` });
      }
    }
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) {
      errs.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value.length}: ${path} in body should have at least ${s.minItems} items` });
    }
    if (s.maxItems !== undefined && value.length > s.maxItems) {
      errs.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${value.length}: must have at most ${s.maxItems} items` });
    }
    value.forEach((v, i) => validateValue(v, s.items, `${path}[${i}]`, errs));
    return;
  }
  if (isMap(value)) {
    for (const req of s.required ?? []) {
      if (value[req] === undefined) errs.push({ reason: 'FieldValueRequired', field: child(path, req), message: 'Required value' });
    }
    for (const [key, v] of Object.entries(value)) {
      if (path === '' && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) continue;
      const sub = s.properties?.[key] ?? (isMap(s.additionalProperties) ? s.additionalProperties : undefined);
      validateValue(v, sub, child(path, key), errs);
    }
  }
}

export function crSchemaErrors(obj: KubeObject, schema: unknown): FieldError[] {
  if (!isMap(schema)) return [];
  const errs: FieldError[] = [];
  validateValue(obj, schema as Schema, '', errs);
  return errs;
}

export function pruneCustomResource(obj: KubeObject, schema: unknown): string[] {
  if (!isMap(schema)) return [];
  const out: string[] = [];
  pruneUnknown(obj, schema as Schema, '', out);
  return out;
}
