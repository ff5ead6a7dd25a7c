/**
 * The pod network relay's channel on the link (docs/podnet.md, "The relay path"): IPv4 packets of
 * pods, carried agent → server → agent for node pairs without a direct path. They travel in the
 * link's binary frames on channel RELAY_CHANNEL (the 4-byte stream id 0, which no stream uses:
 * stream ids start at 1), each frame a batch of length-prefixed packets:
 *
 *     u32 0 | u16 length | packet | u16 length | packet | …
 *
 * Packets are datagrams, so the relay never queues them behind anything: a sender whose link
 * already holds more than RELAY_MAX_BUFFERED_BYTES unsent drops the batch, as a router drops on a
 * full queue (TCP inside slows down), and the link's own messages (API traffic, tunnel streams) wait
 * behind at most that much relay data.
 */

export const RELAY_CHANNEL = 0;
/**
 * Unsent link bytes above which a relay batch is dropped rather than queued: ~20 ms of a 100 Mbit/s
 * uplink, so a relay at full speed delays the link's messages by at most that much.
 */
export const RELAY_MAX_BUFFERED_BYTES = 256 * 1024;
/** A batch is sent once it holds this much (or at the end of the event-loop turn). */
export const RELAY_BATCH_BYTES = 60 * 1024;
/** Largest packet the channel carries (an IPv4 packet's length field; the overlay's MTU is far below). */
export const RELAY_MAX_PACKET = 0xffff;

/** Whether a link binary frame belongs to the relay channel. */
export function isRelayFrame(frame: Buffer): boolean {
  return frame.length >= 4 && frame.readUInt32BE(0) === RELAY_CHANNEL;
}

/** One frame of the relay channel carrying `packets` (each ≤ RELAY_MAX_PACKET bytes). */
export function encodeRelayFrame(packets: readonly Buffer[]): Buffer {
  let size = 4;
  for (const p of packets) size += 2 + p.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(RELAY_CHANNEL, 0);
  let at = 4;
  for (const p of packets) {
    out.writeUInt16BE(p.length, at);
    p.copy(out, at + 2);
    at += 2 + p.length;
  }
  return out;
}

/** The packets of a relay frame (views into it); undefined when a length runs past its end. */
export function decodeRelayFrame(frame: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 4;
  while (at < frame.length) {
    if (at + 2 > frame.length) return undefined;
    const len = frame.readUInt16BE(at);
    if (len === 0 || at + 2 + len > frame.length) return undefined;
    out.push(frame.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

/** Source and destination of an IPv4 packet as 32-bit numbers; undefined for anything else. */
export function ipv4Ends(packet: Buffer): { src: number; dst: number } | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return undefined;
  return { src: packet.readUInt32BE(12), dst: packet.readUInt32BE(16) };
}
