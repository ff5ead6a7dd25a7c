/**
 * Protobuf encoding of the CRI messages, driven by the tables in cri/schema.ts. It replaces
 * protobufjs reflection + @grpc/proto-loader in the agent (docs/runtime.md: memory), and gives
 * exactly what proto-loader gave with { keepCase: false, longs: String, enums: String,
 * defaults: true, arrays: true, objects: true }:
 * - decode: camelCase keys; every schema field present (scalars at their default, messages null,
 *   repeated fields [], maps {}); enums as names (a number the table does not know stays a
 *   number); int64/uint64 as decimal strings; bytes as Buffers. Unknown fields are skipped.
 * - encode: the same shapes in, plus what protobufjs' fromObject accepts: enums as names or
 *   numbers, 64-bit values as numbers, strings or bigints, bytes as Buffer or base64. null and
 *   undefined fields are left out; keys the schema does not know are ignored.
 */
import { criEnums, criMessages } from './schema.ts';
import type { FieldDef } from './schema.ts';

type Kind = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bytes' | 'map' | 'enum' | 'message';

interface Field {
  readonly name: string;
  readonly no: number;
  readonly kind: Kind;
  readonly repeated: boolean;
  /** message or enum name */
  readonly ref: string;
}

interface Message {
  readonly name: string;
  readonly fields: readonly Field[];
  readonly byNumber: ReadonlyMap<number, Field>;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

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

// ---- encoding -------------------------------------------------------------------------------

/** A growable byte buffer. */
class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** An unsigned varint below 2^53. */
  varint(v: number): void {
    this.room(10);
    while (v > 0x7f) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** A 64-bit varint, two's complement for negatives (protobuf int64/uint64). */
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    this.room(10);
    while (u > 0x7fn) {
      this.buf[this.len++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.len++] = Number(u);
  }

  tag(no: number, wire: number): void {
    this.varint(no * 8 + wire);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.room(n);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function int64Of(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  throw new TypeError(`${where}: integer expected`);
}

function enumOf(f: Field, v: unknown, where: string): number {
  if (typeof v === 'number') return v | 0;
  const i = criEnums[f.ref]!.indexOf(String(v));
  if (i < 0) throw new TypeError(`${where}: ${String(v)} is not a ${f.ref}`);
  return i;
}

/** The varint of a scalar or enum value; undefined for the default, which proto3 leaves out. */
function varintValue(f: Field, v: unknown, where: string): bigint | number | undefined {
  switch (f.kind) {
    case 'bool': return v ? 1 : undefined;
    case 'int32': { const n = Number(v) | 0; return n === 0 ? undefined : n; }
    case 'uint32': { const n = Number(v) >>> 0; return n === 0 ? undefined : n; }
    case 'enum': { const n = enumOf(f, v, where); return n === 0 ? undefined : n; }
    case 'int64':
    case 'uint64': { const n = int64Of(v, where); return n === 0n ? undefined : n; }
    default: return undefined;
  }
}

function writeVarintValue(w: Writer, n: number | bigint): void {
  if (typeof n === 'bigint') w.varint64(n);
  else if (n < 0) w.varint64(BigInt(n)); // negative int32/enum: sign-extended to 10 bytes, as protobuf does
  else w.varint(n);
}

function bytesOf(v: unknown, where: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  throw new TypeError(`${where}: bytes expected`);
}

function writeSingle(w: Writer, f: Field, v: unknown, where: string): void {
  switch (f.kind) {
    case 'string': {
      const s = String(v);
      if (s !== '') {
        w.tag(f.no, WIRE_LEN);
        w.string(s);
      }
      return;
    }
    case 'bytes': {
      const b = bytesOf(v, where);
      if (b.length > 0) {
        w.tag(f.no, WIRE_LEN);
        w.bytes(b);
      }
      return;
    }
    case 'message': {
      if (typeof v !== 'object') throw new TypeError(`${where}: object expected`);
      // Present even when empty: a set sub-message (a filter's state, say) means something.
      w.tag(f.no, WIRE_LEN);
      w.bytes(encodeMessage(messageType(f.ref), v as Record<string, unknown>, where));
      return;
    }
    default: {
      const n = varintValue(f, v, where);
      if (n !== undefined) {
        w.tag(f.no, WIRE_VARINT);
        writeVarintValue(w, n);
      }
    }
  }
}

function encodeMessage(m: Message, obj: Record<string, unknown>, path: string): Buffer {
  const w = new Writer();
  for (const f of m.fields) {
    const v = obj[f.name];
    if (v === null || v === undefined) continue;
    const where = `${path}.${f.name}`;
    if (f.kind === 'map') {
      if (typeof v !== 'object') throw new TypeError(`${where}: object expected`);
      for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
        const entry = new Writer();
        entry.tag(1, WIRE_LEN);
        entry.string(key);
        entry.tag(2, WIRE_LEN);
        entry.string(String(value));
        w.tag(f.no, WIRE_LEN);
        w.bytes(entry.finish());
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new TypeError(`${where}: array expected`);
      if (f.kind === 'string' || f.kind === 'bytes' || f.kind === 'message') {
        for (const item of v) {
          // Unlike a single field, an empty string in a list is a value and must be sent.
          w.tag(f.no, WIRE_LEN);
          if (f.kind === 'string') w.string(String(item));
          else if (f.kind === 'bytes') w.bytes(bytesOf(item, where));
          else w.bytes(encodeMessage(messageType(f.ref), item as Record<string, unknown>, where));
        }
      } else if (v.length > 0) {
        // proto3 packs repeated numbers by default.
        const packed = new Writer();
        for (const item of v) writeVarintValue(packed, varintValue(f, item, where) ?? 0);
        w.tag(f.no, WIRE_LEN);
        w.bytes(packed.finish());
      }
    } else {
      writeSingle(w, f, v, where);
    }
  }
  // A copy: the writer's buffer is larger than its content.
  return Buffer.from(w.finish());
}

/** Protobuf bytes of `message` (an object shaped as cri/wire.ts describes) as the named CRI message. */
export function encode(messageName: string, message: object): Buffer {
  return encodeMessage(messageType(messageName), message as Record<string, unknown>, messageName);
}

// ---- decoding -------------------------------------------------------------------------------
//
// The agent decodes a CRI answer several times a second (the PLEG's relist of every sandbox and
// container, each pod worker's inspection), so decoding allocates only what it returns: a nested
// message, a map entry or a string is read by narrowing the one Reader's `end` (no Reader per
// field), and a 64-bit varint is read as two exact halves (no BigInt per byte)
// (bench/agent/README.md, "Garbage per apply").

const TWO_28 = 0x10000000;

class Reader {
  pos = 0;
  readonly buf: Buffer;
  /** Where the message being read ends (narrowed while a nested one is read: `enter`/`leave`). */
  end: number;

  constructor(buf: Buffer, end: number) {
    this.buf = buf;
    this.end = end;
  }

  /** An unsigned varint; exact below 2^53 (lengths, tags, 32-bit values take their low bits). */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /**
   * A 64-bit varint as its decimal string (`signed`: two's complement int64). Read as its low 28
   * and high 36 bits, both exact numbers; a BigInt only when the value is 2^53 or more.
   */
  varint64String(signed: boolean): string {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo += (b & 0x7f) * 2 ** (7 * i);
      else hi += (b & 0x7f) * 2 ** (7 * (i - 4));
      if (b < 0x80) {
        // hi holds bits 28..; a 10th byte adds bits past 64, dropped as protobuf does.
        if (i === 9) hi %= 2 ** 36;
        if (hi < 2 ** 25) return String(hi * TWO_28 + lo);
        const v = (BigInt(hi) << 28n) | BigInt(lo);
        return (signed ? BigInt.asIntN(64, v) : v).toString();
      }
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** Skips a varint of any length. */
  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** The low 32 bits of a varint (int32, uint32, enum, bool), without precision loss for 10-byte negatives. */
  varint32(): number {
    let v = 0;
    for (let i = 0, shift = 0; i < 10; i++, shift += 7) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** Reads a length prefix; returns where that field ends (checked against this message's end). */
  private lengthEnd(): number {
    const n = this.varint();
    if (this.pos + n > this.end) throw new RangeError('length past the end of the message');
    return this.pos + n;
  }

  /** A length-delimited UTF-8 string. */
  string(): string {
    const to = this.lengthEnd();
    const s = this.buf.toString('utf8', this.pos, to);
    this.pos = to;
    return s;
  }

  /** A length-delimited byte string, copied (the answer's buffer is not kept alive by it). */
  bytes(): Buffer {
    const to = this.lengthEnd();
    const b = Buffer.from(this.buf.subarray(this.pos, to));
    this.pos = to;
    return b;
  }

  /** Narrows the reader to the length-delimited field that follows; returns the end to `leave` with. */
  enter(): number {
    const outer = this.end;
    this.end = this.lengthEnd();
    return outer;
  }

  /** Back to the enclosing message after its field was read to its end. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.skipVarint(); return;
      case WIRE_I64: this.pos += 8; break;
      case WIRE_LEN: this.pos = this.lengthEnd(); return;
      case WIRE_I32: this.pos += 4; break;
      default: throw new RangeError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new RangeError('field past the end of the message');
  }
}

function defaultOf(f: Field): unknown {
  if (f.kind === 'map') return {};
  if (f.repeated) return [];
  switch (f.kind) {
    case 'string': return '';
    case 'bool': return false;
    case 'int32':
    case 'uint32': return 0;
    case 'int64':
    case 'uint64': return '0';
    case 'bytes': return Buffer.alloc(0);
    case 'enum': return criEnums[f.ref]![0];
    default: return null;
  }
}

function scalarValue(f: Field, r: Reader): unknown {
  switch (f.kind) {
    case 'string': return r.string();
    case 'bytes': return r.bytes();
    case 'bool': return r.varint32() !== 0;
    case 'int32': return r.varint32();
    case 'uint32': return r.varint32() >>> 0;
    case 'int64': return r.varint64String(true);
    case 'uint64': return r.varint64String(false);
    case 'enum': { const n = r.varint32(); return criEnums[f.ref]![n] ?? n; }
    default: throw new Error(`not a scalar: ${f.kind}`);
  }
}

/** One map entry (the reader narrowed to it: `enter`), into `into`. */
function decodeMapEntry(r: Reader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if ((no === 1 || no === 2) && wire === WIRE_LEN) {
      const text = r.string();
      if (no === 1) key = text;
      else value = text;
    } else {
      r.skip(wire);
    }
  }
  into[key] = value;
}

/** The message the reader is narrowed to (up to its `end`). */
function decodeMessage(m: Message, r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of m.fields) out[f.name] = defaultOf(f);
  while (r.pos < r.end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = m.byNumber.get(no);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.kind === 'map') {
      if (wire !== WIRE_LEN) throw new RangeError(`${m.name}.${f.name}: wire type ${wire} for a map`);
      const outer = r.enter();
      decodeMapEntry(r, out[f.name] as Record<string, string>);
      r.leave(outer);
    } else if (f.kind === 'message') {
      if (wire !== WIRE_LEN) throw new RangeError(`${m.name}.${f.name}: wire type ${wire} for a message`);
      const outer = r.enter();
      const value = decodeMessage(messageType(f.ref), r);
      r.leave(outer);
      if (f.repeated) (out[f.name] as unknown[]).push(value);
      else out[f.name] = value;
    } else if (f.repeated) {
      const list = out[f.name] as unknown[];
      if (wire === WIRE_LEN && f.kind !== 'string' && f.kind !== 'bytes') {
        const outer = r.enter();
        while (r.pos < r.end) list.push(scalarValue(f, r));
        r.leave(outer);
      } else {
        list.push(scalarValue(f, r));
      }
    } else {
      const expected = f.kind === 'string' || f.kind === 'bytes' ? WIRE_LEN : WIRE_VARINT;
      if (wire !== expected) throw new RangeError(`${m.name}.${f.name}: wire type ${wire}, expected ${expected}`);
      out[f.name] = scalarValue(f, r);
    }
  }
  return out;
}

/** The named CRI message from protobuf bytes, shaped as cri/wire.ts describes. */
export function decode(messageName: string, bytes: Buffer): Record<string, unknown> {
  return decodeMessage(messageType(messageName), new Reader(bytes, bytes.length));
}
