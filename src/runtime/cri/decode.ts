// Decoding of the CRI messages (cri/codec.ts says what shapes it gives).
//
// The agent decodes a CRI answer several times a second (the PLEG's relist of every sandbox and
// container, each pod worker's inspection), so decoding allocates only what it returns: a nested
// message, a map entry or a string is read by narrowing the one Reader's `end` (no Reader per
// field), and a 64-bit varint is read as two exact halves (no BigInt per byte)
// (bench/agent/README.md, "Garbage per apply").
import { criEnums } from './schema.ts';
import { WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_I32, messageType } from './message-table.ts';
import type { Field, Message } from './message-table.ts';

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
