/**
 * A swagger 2.0 document (plain JSON) → the protobuf bytes of gnostic's `openapi.v2.Document`,
 * which is what kubectl decodes from GET /openapi/v2. Vendor extensions, defaults, enums and
 * examples travel as `NamedAny`/`Any` whose `yaml` holds the YAML text of the value: kubectl reads
 * them back with gopkg.in/yaml.v2 (YAML 1.1, hence version '1.1' so strings like "on" stay strings).
 */
import protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { gnosticV2Proto } from './gnostic-proto.ts';

type Json = Record<string, unknown>;

let root: protobuf.Root | undefined;

/** The parsed gnostic schema (parsed once; tests decode with the same one). */
export function gnosticRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  protobuf.parse(gnosticV2Proto, r, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function any(value: unknown): Json {
  return { yaml: stringify(value, { version: '1.1', lineWidth: 0 }) };
}

function extensions(o: Json): Json[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => ({ name, value: any(value) }));
}

/** Copy the listed fields when present: [json name, proto name]. */
function copy(from: Json, to: Json, fields: readonly (readonly [string, string])[]): void {
  for (const [json, proto] of fields) if (from[json] !== undefined) to[proto] = from[json];
}

const SCHEMA_SCALARS = [
  ['$ref', '_ref'], ['format', 'format'], ['title', 'title'], ['description', 'description'], ['multipleOf', 'multiple_of'],
  ['maximum', 'maximum'], ['exclusiveMaximum', 'exclusive_maximum'], ['minimum', 'minimum'], ['exclusiveMinimum', 'exclusive_minimum'],
  ['maxLength', 'max_length'], ['minLength', 'min_length'], ['pattern', 'pattern'], ['maxItems', 'max_items'], ['minItems', 'min_items'],
  ['uniqueItems', 'unique_items'], ['maxProperties', 'max_properties'], ['minProperties', 'min_properties'], ['required', 'required'],
  ['discriminator', 'discriminator'], ['readOnly', 'read_only'],
] as const;

function schema(s: Json): Json {
  const m: Json = {};
  copy(s, m, SCHEMA_SCALARS);
  if (s.default !== undefined) m.default = any(s.default);
  if (s.example !== undefined) m.example = any(s.example);
  if (Array.isArray(s.enum)) m.enum = s.enum.map(any);
  if (typeof s.type === 'string') m.type = { value: [s.type] };
  else if (Array.isArray(s.type)) m.type = { value: s.type };
  if (typeof s.additionalProperties === 'boolean') m.additional_properties = { boolean: s.additionalProperties };
  else if (isMap(s.additionalProperties)) m.additional_properties = { schema: schema(s.additionalProperties) };
  if (isMap(s.items)) m.items = { schema: [schema(s.items)] };
  else if (Array.isArray(s.items)) m.items = { schema: s.items.filter(isMap).map(schema) };
  if (Array.isArray(s.allOf)) m.all_of = s.allOf.filter(isMap).map(schema);
  if (isMap(s.properties)) m.properties = { additional_properties: namedSchemas(s.properties) };
  const ext = extensions(s);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

function namedSchemas(map: Json): Json[] {
  return Object.entries(map)
    .filter((e): e is [string, Json] => isMap(e[1]))
    .map(([name, s]) => ({ name, value: schema(s) }));
}

const PARAM_SCALARS = [['required', 'required'], ['in', 'in'], ['description', 'description'], ['name', 'name'], ['type', 'type'], ['format', 'format'], ['uniqueItems', 'unique_items']] as const;

function parameter(p: Json): Json {
  if (p.in === 'body') {
    const body: Json = {};
    copy(p, body, [['description', 'description'], ['name', 'name'], ['in', 'in'], ['required', 'required']]);
    if (isMap(p.schema)) body.schema = schema(p.schema);
    return { parameter: { body_parameter: body } };
  }
  const sub: Json = {};
  copy(p, sub, PARAM_SCALARS);
  const ext = extensions(p);
  if (ext.length) sub.vendor_extension = ext;
  const which = p.in === 'path' ? 'path_parameter_sub_schema' : 'query_parameter_sub_schema';
  return { parameter: { non_body_parameter: { [which]: sub } } };
}

function operation(op: Json): Json {
  const m: Json = {};
  copy(op, m, [['tags', 'tags'], ['summary', 'summary'], ['description', 'description'], ['operationId', 'operation_id'], ['produces', 'produces'], ['consumes', 'consumes'], ['schemes', 'schemes'], ['deprecated', 'deprecated']]);
  if (Array.isArray(op.parameters)) m.parameters = op.parameters.filter(isMap).map(parameter);
  const codes = isMap(op.responses) ? op.responses : {};
  m.responses = {
    response_code: Object.entries(codes)
      .filter((e): e is [string, Json] => isMap(e[1]))
      .map(([name, r]) => ({
        name,
        value: { response: { description: typeof r.description === 'string' ? r.description : '', ...(isMap(r.schema) ? { schema: { schema: schema(r.schema) } } : {}) } },
      })),
  };
  const ext = extensions(op);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

function pathItem(item: Json): Json {
  const m: Json = {};
  for (const method of METHODS) if (isMap(item[method])) m[method] = operation(item[method]);
  if (Array.isArray(item.parameters)) m.parameters = item.parameters.filter(isMap).map(parameter);
  const ext = extensions(item);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

/** Encode a swagger 2.0 document as gnostic `openapi.v2.Document`. */
export function encodeSwagger(doc: Json): Uint8Array {
  const info = isMap(doc.info) ? doc.info : {};
  const message: Json = {
    swagger: typeof doc.swagger === 'string' ? doc.swagger : '2.0',
    info: { title: info.title ?? '', version: info.version ?? '' },
    paths: {
      path: Object.entries(isMap(doc.paths) ? doc.paths : {})
        .filter((e): e is [string, Json] => isMap(e[1]))
        .map(([name, item]) => ({ name, value: pathItem(item) })),
    },
    definitions: { additional_properties: namedSchemas(isMap(doc.definitions) ? doc.definitions : {}) },
  };
  copy(doc, message, [['consumes', 'consumes'], ['produces', 'produces']]);
  const type = gnosticRoot().lookupType('openapi.v2.Document');
  return type.encode(type.fromObject(message)).finish();
}
