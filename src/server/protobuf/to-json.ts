/**
 * Decoded protobuf messages to the JSON Kubernetes' encoding gives the same Go object: omitempty
 * (zero scalars dropped unless the field keeps them: a Go pointer or a field without omitempty),
 * embedded structs flattened (inline), JSON names where Go's differ from protobuf's
 * (`x-kubernetes-…`, `$ref`), Go slices wrapped for protobuf as their list, and the custom JSON
 * forms of the apimachinery types: Time and MicroTime as RFC 3339, Duration as Go prints it,
 * Quantity as its string, IntOrString as a number or string, FieldsV1, RawExtension and
 * apiextensions JSON as the JSON they carry, the apiextensions schema unions, bytes as base64.
 */
import protobuf from 'protobufjs';
import { fieldFacts, isListWrapper } from './registry.ts';

type JsonObject = Record<string, unknown>;
type Message = Record<string, unknown>;

export function messageToJson(type: protobuf.Type, msg: Message): JsonObject {
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    const facts = fieldFacts(field);
    const value = msg[field.name];
    if (field.map) {
      const entries = Object.entries((value ?? {}) as Record<string, unknown>);
      if (entries.length === 0) continue;
      const m: JsonObject = {};
      for (const [k, v] of entries) m[k] = fieldValue(field, v) ?? null;
      out[facts.json] = m;
    } else if (field.repeated) {
      const list = (value ?? []) as unknown[];
      if (list.length > 0) out[facts.json] = list.map((v) => fieldValue(field, v) ?? null);
    } else {
      // Only fields on the wire are own properties; defaults live on the prototype.
      if (!Object.hasOwn(msg, field.name)) continue;
      const json = fieldValue(field, value);
      if (json === undefined) continue;
      if (field.resolvedType instanceof protobuf.Type) {
        if (facts.inline && isPlainObject(json)) Object.assign(out, json);
        else out[facts.json] = json;
      } else if (facts.keep || !isZero(json)) {
        out[facts.json] = json;
      }
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return typeValue(resolved, value as Message);
  return scalar(field.type, value);
}

function typeValue(type: protobuf.Type, msg: Message): unknown {
  const special = SPECIAL_PACKAGES.has(type.parent?.fullName ?? '') ? SPECIAL[type.name] : undefined;
  if (special) return special(type, msg);
  if (isListWrapper(type)) {
    const items = type.fieldsArray[0];
    return items ? ((msg[items.name] ?? []) as unknown[]).map((v) => fieldValue(items, v)) : [];
  }
  return messageToJson(type, msg);
}

const META = '.k8s.io.apimachinery.pkg.apis.meta.v1';
const EXT = '.k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';
const SPECIAL_PACKAGES = new Set([META, '.k8s.io.apimachinery.pkg.api.resource', '.k8s.io.apimachinery.pkg.util.intstr', '.k8s.io.apimachinery.pkg.runtime', EXT]);

const schemaProps = (type: protobuf.Type, msg: Message, field: string): unknown => {
  const f = type.fields[field];
  return f && Object.hasOwn(msg, field) ? fieldValue(f, msg[field]) : undefined;
};

/** The apimachinery (and apiextensions) types with hand-written JSON marshalling, by message name. */
const SPECIAL: Readonly<Record<string, (type: protobuf.Type, msg: Message) => unknown>> = {
  // metav1.Time: RFC 3339 at second precision; zero is omitted (Go prints null).
  Time: (_, m) => formatTime(toNumber(m.seconds), toNumber(m.nanos), false),
  MicroTime: (_, m) => formatTime(toNumber(m.seconds), toNumber(m.nanos), true),
  Duration: (_, m) => goDuration(toNumber(m.duration)),
  Quantity: (_, m) => (typeof m.string === 'string' ? m.string : '0'),
  IntOrString: (_, m) => (toNumber(m.type) === 1 ? (typeof m.strVal === 'string' ? m.strVal : '') : toNumber(m.intVal)),
  FieldsV1: (_, m) => rawJson(m.Raw, {}),
  RawExtension: (_, m) => rawJson(m.raw, null),
  JSON: (_, m) => rawJson(m.raw, null),
  // JSONSchemaPropsOr…: a schema, or else the other branch (apiextensions' MarshalJSON).
  JSONSchemaPropsOrArray: (t, m) => schemaProps(t, m, 'schema') ?? schemaProps(t, m, 'jSONSchemas') ?? [],
  JSONSchemaPropsOrBool: (t, m) => schemaProps(t, m, 'schema') ?? m.allows === true,
  JSONSchemaPropsOrStringArray: (t, m) => schemaProps(t, m, 'property') ?? schemaProps(t, m, 'schema') ?? [],
};

function scalar(type: string, value: unknown): unknown {
  switch (type) {
    case 'bytes':
      return Buffer.from((value ?? new Uint8Array()) as Uint8Array).toString('base64');
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return toNumber(value);
    default:
      return value;
  }
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === undefined || v === null) return 0;
  // int64 fields decode to Long objects.
  return Number(String(v));
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 3339 in UTC: Go's time.RFC3339 (Time) or with microseconds (MicroTime); zero is omitted. */
function formatTime(seconds: number, nanos: number, micro: boolean): string | undefined {
  if (seconds === 0 && nanos === 0) return undefined;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** A Go time.Duration (nanoseconds) as its String(): "0s", "1.5s", "2m0s", "1h0m0s". */
function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trim(n / div)}${unit}`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = `${trim(n / 1e9)}s`;
  return sign + (h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s);
}

const trim = (x: number): string => String(Number(x.toFixed(9)));

function rawJson(raw: unknown, empty: unknown): unknown {
  const bytes = Buffer.from((raw ?? new Uint8Array()) as Uint8Array);
  if (bytes.length === 0) return empty;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes.toString('base64');
  }
}
