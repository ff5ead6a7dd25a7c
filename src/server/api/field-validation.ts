/**
 * Server-side field validation (the `fieldValidation` query parameter, which kubectl sets to Strict
 * for create/apply/edit/replace once OpenAPI v3 is served, kubectl-wire.md §2). Built-in kinds are
 * Go structs in Kubernetes, so unknown fields never reach storage: Strict answers 400
 * `strict decoding error: unknown field "spec.x"`, Warn (the default) sends one Warning header per
 * field, Ignore stays silent — and in the last two the fields are dropped, as decoding would.
 * The schemas are the same component schemas the OpenAPI module publishes.
 */
import builtinSchemas from '../openapi/schemas.json' with { type: 'json' };
import type { KubeObject } from '../kinds/types.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { pruneCustomResource } from './crds/cr-schema.ts';
import { badRequest } from '../storage/status.ts';

type Schema = {
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  $ref?: string;
  type?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
};

const SCHEMAS = builtinSchemas as unknown as Record<string, Schema>;
const REF_PREFIX = '#/components/schemas/';

let byGvk: Map<string, Schema> | undefined;

function schemaFor(group: string, version: string, kind: string): Schema | undefined {
  if (!byGvk) {
    byGvk = new Map();
    for (const s of Object.values(SCHEMAS)) {
      for (const g of s['x-kubernetes-group-version-kind'] ?? []) byGvk.set(`${g.group}/${g.version}/${g.kind}`, s);
    }
  }
  return byGvk.get(`${group}/${version}/${kind}`);
}

/**
 * Schemas whose published form is incomplete: JSONSchemaProps (CRD schemas) lacks the
 * x-kubernetes-* extension fields in the generated component schemas, so it is not checked.
 */
const UNCHECKED = new Set(['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps']);

function resolve(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 10; i++) {
    if (cur.$ref) {
      const name = cur.$ref.slice(REF_PREFIX.length);
      if (UNCHECKED.has(name)) return undefined;
      cur = SCHEMAS[name];
    }
    else if (cur.allOf && cur.allOf.length === 1 && !cur.properties) cur = cur.allOf[0];
    else return cur;
  }
  return cur;
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Remove fields the schema does not know from `value` (in place) and return their paths. */
function prune(value: unknown, schema: Schema | undefined, path: string, out: string[]): void {
  const s = resolve(schema);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => prune(v, s.items, `${path}[${i}]`, out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (s.properties) {
    for (const key of Object.keys(obj)) {
      const sub = s.properties[key];
      if (sub === undefined) {
        out.push(child(path, key));
        delete obj[key];
      } else prune(obj[key], sub, child(path, key), out);
    }
    return;
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const key of Object.keys(obj)) prune(obj[key], s.additionalProperties, child(path, key), out);
  }
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationParam(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation') ?? '';
  if (v === '' || v === 'Warn') return 'Warn';
  if (v === 'Strict' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}. Must be one of Ignore, Warn, Strict`);
}

/**
 * Check a decoded object for unknown fields per `mode`: throw 400 (Strict), or drop them and add
 * warnings (Warn) / drop them silently (Ignore). Custom resources use their CRD version's schema.
 */
export function checkUnknownFields(r: ResourceInfo, obj: KubeObject, mode: FieldValidation, warnings: string[]): void {
  const unknown: string[] = [];
  if (r.custom) unknown.push(...pruneCustomResource(obj, r.schema));
  else {
    const schema = schemaFor(r.group, r.version, r.kind);
    if (!schema) return;
    prune(obj, schema, '', unknown);
  }
  if (unknown.length === 0) return;
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  if (mode === 'Warn') for (const f of unknown) warnings.push(`unknown field "${f}"`);
}
