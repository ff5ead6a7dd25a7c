/**
 * The same bytes in an ArrayBuffer of their own, for Buffers kept long. Node (24) cuts every small
 * Buffer — `Buffer.from(string)` under 32 KiB, `Buffer.from(buffer)`, `Buffer.allocUnsafe` — out of a
 * shared 64 KiB pool slab (`Buffer.poolSize`), and a view pins its whole slab: a kept 1 KB Lease,
 * or a 20-byte search key made once per link, held 64 KB. In the server that was most of its
 * ~68 KB of ArrayBuffers per linked node (docs/link.md, "Server memory per linked node"). A
 * Buffer that already owns its memory is returned as it is.
 */
export function ownBytes(value: Buffer): Buffer {
  if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) return value;
  const own = Buffer.allocUnsafeSlow(value.byteLength);
  value.copy(own);
  return own;
}

/** `Buffer.from(text)` in memory of its own (ownBytes): for search keys and constants kept for long. */
export function ownText(text: string): Buffer {
  return ownBytes(Buffer.from(text, 'utf8'));
}
