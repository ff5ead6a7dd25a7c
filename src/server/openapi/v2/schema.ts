/**
 * OpenAPI v3 component schema → swagger 2.0 definition, shaped like kube-apiserver's /openapi/v2:
 * `$ref`s point at `#/definitions/`, the v3 `allOf: [{$ref}]` wrapper (used to give a reference a
 * description) becomes a plain `$ref` beside its description, and the `oneOf` of IntOrString and
 * Quantity becomes `type: string` (their OpenAPISchemaType upstream; IntOrString keeps
 * `format: int-or-string`). Keywords swagger 2.0 lacks are dropped the way apiextensions-apiserver
 * does for CRD schemas (ToStructuralOpenAPIV2), because kubectl's v2 parser
 * (kube-openapi pkg/util/proto) rejects what it cannot model: a `$ref` beside a type or
 * properties, an array without `items`, more than one type.
 */
type Json = Record<string, unknown>;

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';

/** Keywords copied unchanged (the swagger 2.0 Schema Object minus what is handled below). */
const PLAIN = [
  'format', 'title', 'description', 'default', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required',
  'enum', 'type', 'discriminator', 'readOnly', 'example',
] as const;

const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean']);

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `$ref` target of a v3 reference, rewritten for swagger 2.0 (other refs pass unchanged). */
export function v2Ref(ref: string): string {
  return ref.startsWith(V3_REF) ? `${V2_REF}${ref.slice(V3_REF.length)}` : ref;
}

/** `allOf: [{$ref}]` with nothing else in the single branch: the description-carrying reference. */
function wrappedRef(allOf: unknown): string | undefined {
  if (!Array.isArray(allOf) || allOf.length !== 1 || !isMap(allOf[0])) return undefined;
  const only = allOf[0];
  return Object.keys(only).length === 1 && typeof only.$ref === 'string' ? only.$ref : undefined;
}

/** A v3 `oneOf` whose branches are all bare primitive types (IntOrString, Quantity). */
function primitiveUnion(oneOf: unknown): boolean {
  return Array.isArray(oneOf) && oneOf.length > 0 && oneOf.every((b) => isMap(b) && Object.keys(b).length === 1 && PRIMITIVES.has(String(b.type)));
}

/** Convert one schema (recursively). */
export function toV2Schema(s: Json): Json {
  const out: Json = {};
  for (const k of PLAIN) if (s[k] !== undefined) out[k] = s[k];
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) out[k] = v;

  const ref = typeof s.$ref === 'string' ? s.$ref : wrappedRef(s.allOf);
  if (ref !== undefined) {
    // kubectl: "definition reference can't have a type" / "unallowed embedded type definition".
    delete out.type;
    return { ...out, $ref: v2Ref(ref) };
  }
  if (out.type === undefined && primitiveUnion(s.oneOf)) out.type = 'string';

  if (isMap(s.properties)) out.properties = Object.fromEntries(Object.entries(s.properties).map(([name, p]) => [name, isMap(p) ? toV2Schema(p) : p]));
  if (typeof s.additionalProperties === 'boolean') out.additionalProperties = s.additionalProperties;
  else if (isMap(s.additionalProperties)) out.additionalProperties = toV2Schema(s.additionalProperties);
  if (isMap(s.items)) out.items = toV2Schema(s.items);
  else if (Array.isArray(s.items)) out.items = s.items.filter(isMap).map(toV2Schema);

  // apiextensions-apiserver's v2 rules: nullable and preserve-unknown-fields values lose their
  // structure (swagger 2.0 has no null; kubectl would otherwise reject the unknown fields).
  if (s.nullable === true) {
    delete out.type;
    delete out.items;
    delete out.properties;
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.items;
    delete out.properties;
  }
  if (s['x-kubernetes-int-or-string'] === true) delete out.type;
  if (out.type === 'array' && out.items === undefined) delete out.type;
  if (Array.isArray(out.required) && isMap(s.properties)) {
    const props = s.properties;
    out.required = out.required.filter((f) => !(isMap(props[f as string]) && (props[f as string] as Json).nullable === true));
    if ((out.required as unknown[]).length === 0) delete out.required;
  }
  return out;
}
