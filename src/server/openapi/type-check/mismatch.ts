/**
 * A type error in kube-apiserver's words. Its decoder is Go's encoding/json (sigs.k8s.io/json),
 * whose UnmarshalTypeError reads `json: cannot unmarshal number into Go struct field
 * PodSpec.spec.containers of type v1.Container`: the JSON kind found (with the literal for a number
 * that does not fit), the innermost struct holding the field, the field path from the object's root
 * (struct fields only: no list indexes, no map keys) and the Go type expected there. The exact path
 * with indexes (`spec.containers[0]`) goes with it for Status causes.
 */
import { INT_OR_STRING, QUANTITY, SCHEMAS, refOf } from './components.ts';
import type { Schema } from './components.ts';

export interface TypeMismatch {
  /** Go's UnmarshalTypeError text. */
  readonly message: string;
  /** The field in Kubernetes' path notation: `spec.containers[0]`, `metadata.labels[app]`. */
  readonly field: string;
  /** What the schema expects, in JSON terms: "object", "string", "integer", "int32 or string", … */
  readonly expected: string;
  /** The JSON kind found: "number", "string", "bool", "array", "object". */
  readonly found: string;
}

/** Go's short type name of a component: io.k8s.api.core.v1.Container → v1.Container. */
function goName(component: string): string {
  return component.split('.').slice(-2).join('.');
}

/** The Go type a field schema decodes into (pointers are dereferenced in Go's messages too). */
function goType(s: Schema): string {
  const ref = refOf(s);
  if (ref !== undefined) return goName(ref);
  switch (s.type) {
    case 'string':
      return s.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return s.format ?? 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'array':
      return `[]${s.items ? goType(s.items) : 'interface {}'}`;
    case 'object':
      return typeof s.additionalProperties === 'object' ? `map[string]${goType(s.additionalProperties)}` : 'map[string]interface {}';
    default:
      return 'interface {}';
  }
}

/** The expectation in JSON terms, for the cause message. */
function jsonExpectation(s: Schema): string {
  const ref = refOf(s);
  if (ref === INT_OR_STRING) return 'int32 or string';
  if (ref === QUANTITY) return 'quantity (string or number)';
  const target = ref !== undefined ? SCHEMAS[ref] : s;
  if (!target) return 'object';
  if (target.type === 'integer') return target.format ?? 'integer';
  return target.type ?? 'object';
}

/** encoding/json's name for the kind of a JSON value. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Follow $ref/allOf to the structure of a field schema. */
function structure(s: Schema): Schema {
  const ref = refOf(s);
  return ref !== undefined ? (SCHEMAS[ref] ?? {}) : s;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Describe the error ajv reported at `instancePath` (a JSON pointer into `obj`) against the
 * component schema `root`: a wrong JSON kind, or an integer that is not whole or out of range.
 */
export function describeMismatch(root: string, obj: unknown, instancePath: string): TypeMismatch {
  let structName = root.split('.').pop() ?? root;
  const goPath: string[] = [];
  let field = '';
  let schema: Schema = { $ref: `#/components/schemas/${root}` };
  let value: unknown = obj;
  const segments = instancePath === '' ? [] : instancePath.slice(1).split('/').map(unescapePointer);
  for (const seg of segments) {
    const s = structure(schema);
    if (s.properties) {
      // The struct holding the field is the innermost component passed through.
      const ref = refOf(schema);
      if (ref !== undefined) structName = ref.split('.').pop() ?? ref;
      goPath.push(seg);
      field = field === '' ? seg : `${field}.${seg}`;
      schema = s.properties[seg] ?? {};
    } else if (s.type === 'array') {
      field = `${field}[${seg}]`;
      schema = s.items ?? {};
    } else {
      field = `${field}[${seg}]`;
      schema = typeof s.additionalProperties === 'object' ? s.additionalProperties : {};
    }
    value = (value as Record<string, unknown> | undefined)?.[seg];
  }
  const kind = jsonKind(value);
  const expected = jsonExpectation(schema);
  // A number that is not whole or does not fit the integer: Go names the literal ("number 1.5").
  const found = kind === 'number' && /^int/.test(expected) ? `number ${String(value)}` : kind;
  const into = goPath.length > 0 ? `Go struct field ${structName}.${goPath.join('.')}` : 'Go value';
  return { message: `json: cannot unmarshal ${found} into ${into} of type ${goType(schema)}`, field, expected, found: kind };
}
