// The little DER (X.690) a node certificate and its request need, read and written with Buffers:
// a TLV reader that hands out the exact bytes of each element, and writers for the few types we
// emit. The join path signs a certificate per device with these (server/pki/node-cert.ts) and a
// device writes its request with them (link/node-csr.ts), instead of @peculiar/x509's ASN.1 object
// model, which cost ~0.1–0.4 s of the server's CPU per join (docs/link.md, "Storms") and ~8 % of a
// join storm's simulator CPU on the devices' side.

/** One element: its tag byte, the whole encoding and the contents. */
export interface Der {
  readonly tag: number;
  readonly all: Buffer;
  readonly body: Buffer;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The element at `offset` of `buf`; throws on anything truncated or not DER-shaped (long tags, indefinite lengths). */
export function readDer(buf: Buffer, offset = 0): Der {
  const tag = buf[offset];
  if (tag === undefined || (tag & 0x1f) === 0x1f) throw new Error('DER: truncated or multi-byte tag');
  let len = buf[offset + 1];
  if (len === undefined) throw new Error('DER: truncated length');
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: indefinite or oversized length');
    len = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[offset + 2 + i];
      if (b === undefined) throw new Error('DER: truncated length');
      len = len * 256 + b;
    }
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw new Error('DER: element longer than its buffer');
  return { tag, all: buf.subarray(offset, end), body: buf.subarray(offset + head, end) };
}

/** The elements inside a constructed element, in order. */
export function children(el: Der): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < el.body.length; ) {
    const c = readDer(el.body, at);
    out.push(c);
    at += c.all.length;
  }
  return out;
}

/** One element from its tag and contents. */
export function tlv(tag: number, ...body: Buffer[]): Buffer {
  const content = body.length === 1 ? body[0]! : Buffer.concat(body);
  const n = content.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([tag, n]);
  else if (n < 0x100) head = Buffer.from([tag, 0x81, n]);
  else if (n < 0x10000) head = Buffer.from([tag, 0x82, n >> 8, n & 0xff]);
  else head = Buffer.from([tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, content]);
}

export const sequence = (...items: Buffer[]) => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Buffer[]) => tlv(TAG.SET, ...items);
/** A context-specific constructed [n] (explicit tagging). */
export const explicit = (n: number, ...items: Buffer[]) => tlv(0xa0 | n, ...items);

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** A non-negative INTEGER from its big-endian magnitude (a leading zero added when the top bit is set). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let m = magnitude;
  while (m.length > 1 && m[0] === 0 && (m[1]! & 0x80) === 0) m = m.subarray(1);
  return tlv(TAG.INTEGER, m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
}

/** A BIT STRING of whole bytes. */
export const bitString = (bytes: Buffer) => tlv(TAG.BIT_STRING, Buffer.from([0]), bytes);
export const octetString = (bytes: Buffer) => tlv(TAG.OCTET_STRING, bytes);
export const booleanTrue = () => tlv(TAG.BOOLEAN, Buffer.from([0xff]));

/** PrintableString's alphabet (X.680 §41.4). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A directory string: PrintableString when its characters allow, else UTF8String (as @peculiar/x509 chooses). */
export const directoryString = (s: string) => tlv(PRINTABLE.test(s) ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, Buffer.from(s, 'utf8'));

/** A certificate validity time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); whole seconds. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return d.getUTCFullYear() < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`)) : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`));
}
