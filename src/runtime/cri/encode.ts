// Encoding of the CRI messages (cri/codec.ts says what shapes it takes).
import { criEnums } from './schema.ts';
import { WIRE_VARINT, WIRE_LEN, messageType } from './message-table.ts';
import type { Field, Message } from './message-table.ts';

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
