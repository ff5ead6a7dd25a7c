// The CRI message tables of cri/schema.ts resolved for the codec (cri/codec.ts): each message's
// fields by name and by number, with their protobuf kinds, and the wire types.
import { criEnums, criMessages } from './schema.ts';
import type { FieldDef } from './schema.ts';

export type Kind = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bytes' | 'map' | 'enum' | 'message';

export interface Field {
  readonly name: string;
  readonly no: number;
  readonly kind: Kind;
  readonly repeated: boolean;
  /** message or enum name */
  readonly ref: string;
}

export interface Message {
  readonly name: string;
  readonly fields: readonly Field[];
  readonly byNumber: ReadonlyMap<number, Field>;
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const scalars = new Set(['string', 'bool', 'int32', 'uint32', 'int64', 'uint64', 'bytes', 'map']);
const messages = new Map<string, Message>();

function kindOf(type: string, where: string): Kind {
  if (scalars.has(type)) return type as Kind;
  if (criEnums[type]) return 'enum';
  if (criMessages[type]) return 'message';
  throw new Error(`CRI schema: ${where} has unknown type ${type}`);
}

/** A message's fields, resolved once on first use. */
export function messageType(name: string): Message {
  let m = messages.get(name);
  if (m) return m;
  const def = criMessages[name];
  if (!def) throw new Error(`CRI schema: no message ${name}`);
  const fields = Object.entries(def).map(([fieldName, [no, type, rep]]: [string, FieldDef]): Field => ({
    name: fieldName, no, kind: kindOf(type, `${name}.${fieldName}`), repeated: rep === 'repeated', ref: type,
  }));
  m = { name, fields, byNumber: new Map(fields.map((f) => [f.no, f])) };
  messages.set(name, m);
  return m;
}
