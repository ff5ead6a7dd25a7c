/**
 * Decoded protobuf messages to the JSON Kubernetes' encoding gives the same Go object: omitempty
 * (zero scalars dropped unless the field is marked `(keep)`: a Go pointer or a non-omitempty field
 * where zero means something), embedded structs flattened (`(inline)`), and the custom JSON forms
 * of the apimachinery types: Time as an RFC 3339 string, Quantity as its string, IntOrString as a
 * number or string, FieldsV1 as the JSON it carries, bytes as base64.
 */
import protobuf from 'protobufjs';

type JsonObject = Record<string, unknown>;
type Message = Record<string, unknown>;

export function messageToJson(type: protobuf.Type, msg: Message): JsonObject {
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    const name = field.name;
    const value = msg[name];
    if (field.map) {
      const entries = Object.entries((value ?? {}) as Record<string, unknown>);
      if (entries.length === 0) continue;
      const m: JsonObject = {};
      for (const [k, v] of entries) m[k] = fieldValue(field, v) ?? null;
      out[name] = m;
    } else if (field.repeated) {
      const list = (value ?? []) as unknown[];
      if (list.length > 0) out[name] = list.map((v) => fieldValue(field, v) ?? null);
    } else {
      // Only fields on the wire are own properties; defaults live on the prototype.
      if (!Object.hasOwn(msg, name)) continue;
      const keep = field.options?.['(keep)'] === true;
      const json = fieldValue(field, value);
      if (json === undefined) continue;
      if (field.resolvedType instanceof protobuf.Type) {
        if (field.options?.['(inline)'] === true && isPlainObject(json)) Object.assign(out, json);
        else out[name] = json;
      } else if (keep || !isZero(json)) {
        out[name] = json;
      }
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    return specialTypes.has(resolved.fullName) ? special(resolved, value as Message) : messageToJson(resolved, value as Message);
  }
  return scalar(field.type, value);
}

const specialTypes = new Set(['.meta.Time', '.meta.Quantity', '.meta.IntOrString', '.meta.FieldsV1']);

/** The apimachinery types with hand-written JSON marshalling; undefined for a zero Time (omitted). */
function special(type: protobuf.Type, msg: Message): unknown {
  switch (type.fullName) {
    case '.meta.Time':
      return formatTime(toNumber(msg.seconds), toNumber(msg.nanos));
    case '.meta.Quantity':
      return typeof msg.string === 'string' ? msg.string : '0';
    case '.meta.IntOrString':
      return toNumber(msg.type) === 1 ? (typeof msg.strVal === 'string' ? msg.strVal : '') : toNumber(msg.intVal);
    case '.meta.FieldsV1':
      return rawJson(msg.Raw);
    default:
      return undefined;
  }
}

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

/** metav1.Time: RFC 3339 in UTC at second precision (Go's time.RFC3339); zero is omitted. */
function formatTime(seconds: number, nanos: number): string | undefined {
  if (seconds === 0 && nanos === 0) return undefined;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

function rawJson(raw: unknown): unknown {
  const bytes = Buffer.from((raw ?? new Uint8Array()) as Uint8Array);
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes.toString('base64');
  }
}
