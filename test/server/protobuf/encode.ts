/**
 * The inverse of the decoder, for tests: a Kubernetes JSON object as the protobuf body a Go client
 * sends (`k8s\0` + runtime.Unknown), written with the same generated definitions. Go's marshaller
 * writes every non-pointer field, zero or not; this writes what the JSON has, which is what a Go
 * client sends for a decoded copy of that JSON up to zero values (which the decoder drops again).
 */
import protobuf from 'protobufjs';
import { fieldFacts, isListWrapper, typeFor, unknownType } from '../../../src/server/protobuf/registry.ts';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseTime(s: string): { seconds: number; nanos: number } {
  const ms = Date.parse(s);
  const frac = /\.(\d+)Z$/.exec(s)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: Number(frac.padEnd(9, '0').slice(0, 9)) };
}

function parseGoDuration(s: string): number {
  let ns = 0;
  for (const [, n, unit] of s.matchAll(/([\d.]+)(h|ms|m|s|µs|us|ns)/g)) {
    const mult = { h: 3.6e12, m: 6e10, s: 1e9, ms: 1e6, µs: 1e3, us: 1e3, ns: 1 }[unit as 'h'];
    ns += Number(n) * mult;
  }
  return ns;
}

function special(type: protobuf.Type, v: unknown): Json | undefined {
  const pkg = type.parent?.fullName ?? '';
  if (!pkg.startsWith('.k8s.io.apimachinery') && !pkg.startsWith('.k8s.io.apiextensions_apiserver')) return undefined;
  const raw = (x: unknown) => ({ raw: Buffer.from(JSON.stringify(x)) });
  switch (type.name) {
    case 'Time':
    case 'MicroTime':
      return parseTime(String(v));
    case 'Duration':
      return { duration: parseGoDuration(String(v)) };
    case 'Quantity':
      return { string: String(v) };
    case 'IntOrString':
      return typeof v === 'number' ? { type: 0, intVal: v } : { type: 1, strVal: String(v) };
    case 'FieldsV1':
      return { Raw: Buffer.from(JSON.stringify(v)) };
    case 'RawExtension':
    case 'JSON':
      return raw(v);
    case 'JSONSchemaPropsOrBool':
      return typeof v === 'boolean' ? { allows: v } : { allows: true, schema: toMessage(type.fields.schema!.resolvedType as protobuf.Type, v as Json) };
    case 'JSONSchemaPropsOrArray':
      return Array.isArray(v)
        ? { jSONSchemas: v.map((s) => toMessage(type.fields.jSONSchemas!.resolvedType as protobuf.Type, s as Json)) }
        : { schema: toMessage(type.fields.schema!.resolvedType as protobuf.Type, v as Json) };
    case 'JSONSchemaPropsOrStringArray':
      return Array.isArray(v) ? { property: v } : { schema: toMessage(type.fields.schema!.resolvedType as protobuf.Type, v as Json) };
    default:
      return undefined;
  }
}

function value(field: protobuf.FieldBase, v: unknown): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    const s = special(t, v);
    if (s) return s;
    if (isListWrapper(t)) return { items: v };
    return toMessage(t, v as Json);
  }
  if (field.type === 'bytes') return Buffer.from(String(v), 'base64');
  return v;
}

function toMessage(type: protobuf.Type, json: Json): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    const facts = fieldFacts(field);
    if (facts.inline) {
      out[field.name] = toMessage(field.resolvedType as protobuf.Type, json);
      continue;
    }
    const v = json[facts.json];
    if (v === undefined || v === null) continue;
    if (field.map) out[field.name] = Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, value(field, x)]));
    else if (field.repeated) out[field.name] = (v as unknown[]).map((x) => value(field, x));
    else out[field.name] = value(field, v);
  }
  return out;
}

/** The protobuf request body kubectl would send for `obj`. */
export function encodeKubernetesProtobuf(obj: Json): Buffer {
  const apiVersion = String(obj.apiVersion);
  const kind = String(obj.kind);
  const type = typeFor(apiVersion, kind);
  if (!type) throw new Error(`no protobuf message for ${apiVersion}/${kind}`);
  const raw = type.encode(type.fromObject(toMessage(type, obj))).finish();
  const unknown = unknownType();
  const envelope = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(envelope)]);
}

export { isObj };
