/**
 * The DNS wire format (RFC 1035, EDNS0 of RFC 6891), only as much as the cluster DNS needs: read
 * one query, write a response with name compression, truncate what does not fit over UDP, and
 * read the TTLs of an upstream answer for the forwarder's cache. Hand-written rather than a
 * library: the agent's memory is budgeted and this is ~250 lines against a general codec's
 * thousands (docs/services.md measures both).
 */

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const CLASS_IN = 1;
const MAX_UDP = 4096;

export interface Query {
  readonly id: number;
  /** Recursion desired, echoed back. */
  readonly rd: boolean;
  /** The name as asked (case kept, no trailing dot). */
  readonly name: string;
  readonly type: number;
  readonly qclass: number;
  /** The client's EDNS0 UDP payload size, or undefined without EDNS0. */
  readonly ednsSize: number | undefined;
}

export type RData =
  | { readonly type: 1; readonly ip: string }
  | { readonly type: 28; readonly bytes: Buffer }
  | { readonly type: 2 | 5 | 12; readonly name: string }
  | { readonly type: 6; readonly mname: string; readonly rname: string; readonly serial: number; readonly refresh: number; readonly retry: number; readonly expire: number; readonly minimum: number }
  | { readonly type: 16; readonly text: readonly string[] }
  | { readonly type: 33; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string };

export interface DnsRecord {
  readonly name: string;
  readonly ttl: number;
  readonly data: RData;
}

export interface Response {
  readonly rcode: number;
  /** Authoritative (the cluster zone) or not (forwarded, never built here). */
  readonly aa: boolean;
  readonly answers: readonly DnsRecord[];
  readonly authority?: readonly DnsRecord[];
  readonly additional?: readonly DnsRecord[];
}

export class DnsFormatError extends Error {}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it. */
function readName(buf: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let total = 0;
  for (let jumps = 0; ; ) {
    if (off >= buf.length) throw new DnsFormatError('name runs past the message');
    const len = buf[off]!;
    if (len === 0) {
      if (next < 0) next = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > 16) throw new DnsFormatError('compression loop');
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if (len > 63) throw new DnsFormatError('label longer than 63');
    if (off + 1 + len > buf.length) throw new DnsFormatError('label runs past the message');
    total += len + 1;
    if (total > 255) throw new DnsFormatError('name longer than 255');
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/**
 * One query per message (what every resolver sends; RFC 9619 makes it the rule): QR clear,
 * QDCOUNT 1, a standard query. Anything else is a DnsFormatError (answered FORMERR) — or NOTIMP
 * for another opcode, which `parseQuery` reports through `opcode`.
 */
export function parseQuery(buf: Buffer): Query & { readonly opcode: number } {
  if (buf.length < 12) throw new DnsFormatError('shorter than a header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw new DnsFormatError('a response, not a query');
  const opcode = (flags >> 11) & 0xf;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (qd !== 1) throw new DnsFormatError(`${qd} questions`);
  const q = readName(buf, 12);
  if (q.next + 4 > buf.length) throw new DnsFormatError('question runs past the message');
  const type = buf.readUInt16BE(q.next);
  const qclass = buf.readUInt16BE(q.next + 2);
  let off = q.next + 4;
  let ednsSize: number | undefined;
  // Skip answer and authority records (a query has none, but they are not an error); find OPT.
  for (let i = 0; i < an + ns + ar; i++) {
    const r = readName(buf, off);
    if (r.next + 10 > buf.length) throw new DnsFormatError('record runs past the message');
    const rtype = buf.readUInt16BE(r.next);
    const rdlen = buf.readUInt16BE(r.next + 8);
    if (r.next + 10 + rdlen > buf.length) throw new DnsFormatError('record data runs past the message');
    if (i >= an + ns && rtype === TYPE.OPT) ednsSize = Math.max(512, buf.readUInt16BE(r.next + 2));
    off = r.next + 10 + rdlen;
  }
  return { id, rd: (flags & 0x0100) !== 0, name: q.name, type, qclass, ednsSize, opcode };
}

/**
 * A copy with a backing store of its own, exactly its size, for bytes a cache keeps. Buffer.from
 * and allocUnsafe take small buffers from Node's shared 8 KB pool, and a kept slice keeps the whole
 * slab alive with everything else allocated in it: 150 cached answers held 320 KB of Buffers this
 * way, 11 KB as copies of their own (bench/services/dns-memory.ts; README, session 7).
 */
export function keptCopy(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}

/** The id of a message too broken to parse, if it has one (so FORMERR can name the query). */
export function messageId(buf: Buffer): number | undefined {
  return buf.length >= 2 ? buf.readUInt16BE(0) : undefined;
}

class Writer {
  private buf = Buffer.allocUnsafe(512);
  length = 0;
  private readonly names = new Map<string, number>();

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }

  /**
   * A name, pointing at an earlier copy of any suffix (compression is case-insensitive);
   * `compress` false writes it whole (SRV targets: RFC 2782 forbids compressing them).
   */
  name(name: string, compress = true): void {
    const labels = name === '' ? [] : name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = compress ? this.names.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.length < 0x3fff) this.names.set(suffix, this.length);
      const label = Buffer.from(labels[i]!, 'latin1');
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  at(off: number, v: number): void {
    this.buf.writeUInt16BE(v, off);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name);
  w.u16(r.data.type);
  w.u16(CLASS_IN);
  w.u32(r.ttl);
  const lenAt = w.length;
  w.u16(0);
  const start = w.length;
  const d = r.data;
  switch (d.type) {
    case 1:
      for (const o of d.ip.split('.')) w.u8(Number(o));
      break;
    case 28:
      w.bytes(d.bytes);
      break;
    case 2:
    case 5:
    case 12:
      w.name(d.name);
      break;
    case 6:
      w.name(d.mname);
      w.name(d.rname);
      for (const n of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(n);
      break;
    case 16:
      for (const t of d.text) {
        const b = Buffer.from(t, 'utf8').subarray(0, 255);
        w.u8(b.length);
        w.bytes(b);
      }
      break;
    case 33:
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target, false);
      break;
  }
  w.at(lenAt, w.length - start);
}

function encode(q: Query, r: Response, tc: boolean): Buffer {
  const w = new Writer();
  w.u16(q.id);
  // QR, opcode 0, AA, TC, RD echoed, RA (we recurse for names outside the cluster), rcode.
  w.u16(0x8000 | (r.aa ? 0x0400 : 0) | (tc ? 0x0200 : 0) | (q.rd ? 0x0100 : 0) | 0x0080 | (r.rcode & 0xf));
  const answers = tc ? [] : r.answers;
  const authority = tc ? [] : (r.authority ?? []);
  const additional = tc ? [] : (r.additional ?? []);
  w.u16(1);
  w.u16(answers.length);
  w.u16(authority.length);
  w.u16(additional.length + (q.ednsSize !== undefined ? 1 : 0));
  w.name(q.name);
  w.u16(q.type);
  w.u16(q.qclass);
  for (const rec of answers) writeRecord(w, rec);
  for (const rec of authority) writeRecord(w, rec);
  for (const rec of additional) writeRecord(w, rec);
  if (q.ednsSize !== undefined) {
    // OPT: root name, our payload size, no extended rcode, version 0, no options.
    w.u8(0);
    w.u16(TYPE.OPT);
    w.u16(MAX_UDP);
    w.u32(0);
    w.u16(0);
  }
  return w.done();
}

/**
 * The response to `q`. Over UDP (`limit` = what the client accepts) a response that does not fit
 * is sent as header and question only with TC set, so the client retries over TCP (RFC 1035 4.2.1).
 */
export function encodeResponse(q: Query, r: Response, limit?: number): Buffer {
  const full = encode(q, r, false);
  if (limit === undefined || full.length <= limit) return full;
  return encode(q, r, true);
}

/** How many bytes a UDP response to `q` may have. */
export function udpLimit(q: Query): number {
  return q.ednsSize === undefined ? 512 : Math.min(q.ednsSize, MAX_UDP);
}

/** A header-only error response (FORMERR, NOTIMP) to a message whose question may be unreadable. */
export function errorResponse(id: number, rcode: number, question?: Query): Buffer {
  if (question) return encode(question, { rcode, aa: false, answers: [] }, false);
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | 0x0080 | (rcode & 0xf), 2);
  return b;
}

/**
 * What an upstream answer may be cached for: the smallest TTL of its records (the SOA minimum
 * for a negative answer, RFC 2308), or undefined when it must not be cached (SERVFAIL, garbage).
 */
export function cacheSeconds(buf: Buffer): number | undefined {
  try {
    if (buf.length < 12) return undefined;
    const rcode = buf.readUInt16BE(2) & 0xf;
    if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return undefined;
    const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
    let off = 12;
    for (let i = 0; i < counts[0]; i++) off = readName(buf, off).next + 4;
    let min: number | undefined;
    for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
      const r = readName(buf, off);
      const type = buf.readUInt16BE(r.next);
      const ttl = buf.readUInt32BE(r.next + 4);
      const rdlen = buf.readUInt16BE(r.next + 8);
      let t = ttl;
      if (type === TYPE.SOA && i >= counts[1]) {
        // Negative caching: the SOA's minimum field, capped by the SOA's own TTL.
        t = Math.min(ttl, buf.readUInt32BE(r.next + 10 + rdlen - 4));
      }
      if (type !== TYPE.OPT) min = min === undefined ? t : Math.min(min, t);
      off = r.next + 10 + rdlen;
    }
    return min ?? 0;
  } catch {
    return undefined;
  }
}

/** A query for `name`/`type` with recursion desired (the forwarder's own questions). */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const w = new Writer();
  w.u16(id);
  w.u16(0x0100);
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  w.name(name);
  w.u16(type);
  w.u16(CLASS_IN);
  return w.done();
}

/** The A, AAAA and CNAME records of an upstream answer (what an ExternalName's chase appends). */
export function parseAnswers(buf: Buffer): DnsRecord[] {
  const out: DnsRecord[] = [];
  try {
    const qd = buf.readUInt16BE(4);
    const an = buf.readUInt16BE(6);
    let off = 12;
    for (let i = 0; i < qd; i++) off = readName(buf, off).next + 4;
    for (let i = 0; i < an; i++) {
      const r = readName(buf, off);
      const type = buf.readUInt16BE(r.next);
      const ttl = buf.readUInt32BE(r.next + 4);
      const rdlen = buf.readUInt16BE(r.next + 8);
      const at = r.next + 10;
      if (type === TYPE.A && rdlen === 4) out.push({ name: r.name, ttl, data: { type: 1, ip: [...buf.subarray(at, at + 4)].join('.') } });
      else if (type === TYPE.AAAA && rdlen === 16) out.push({ name: r.name, ttl, data: { type: 28, bytes: Buffer.from(buf.subarray(at, at + 16)) } });
      else if (type === TYPE.CNAME) out.push({ name: r.name, ttl, data: { type: 5, name: readName(buf, at).name } });
      off = at + rdlen;
    }
  } catch {
    // A malformed upstream answer adds nothing.
  }
  return out;
}
