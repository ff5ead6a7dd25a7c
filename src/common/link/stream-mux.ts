/**
 * Byte streams multiplexed over one link, each a Node Duplex. Flow control is credit based, like
 * HTTP/2's per-stream windows: a sender may have at most `window` unconsumed bytes in flight per
 * stream and the receiver returns credit as its consumer reads, so a stream whose reader is slow
 * stops only itself, never the link or the other streams. Data travels in binary frames (a 4-byte
 * stream id then the bytes); end, reset and credit are control messages of the link protocol.
 */
import { Duplex } from 'node:stream';
import { LinkError, LinkErrorCode } from './errors.ts';
import type { StreamControlMessage, WithoutId } from './protocol.ts';

export const STREAM_WINDOW_BYTES = 256 * 1024;
/** Data frames are at most this big, so one big write cannot hog the link for long. */
export const MAX_DATA_FRAME_BYTES = 32 * 1024;

export interface MuxTransport {
  sendControl(msg: WithoutId<StreamControlMessage>): void;
  /** A binary frame: stream id + bytes. */
  sendFrame(frame: Buffer): void;
}

export function encodeDataFrame(stream: number, data: Buffer): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(stream, 0);
  return Buffer.concat([header, data]);
}

export function decodeDataFrame(frame: Buffer): { stream: number; data: Buffer } | undefined {
  if (frame.length < 4) return undefined;
  return { stream: frame.readUInt32BE(0), data: frame.subarray(4) };
}

interface PendingWrite {
  chunk: Buffer;
  callback: (err?: Error | null) => void;
}

/** One multiplexed stream. */
class MuxStream extends Duplex {
  /** Bytes we may still send. */
  private credit: number;
  /** Bytes the peer may still send us before it must wait for credit. */
  private peerAllowance: number;
  /** Bytes pushed to our reader that have not been returned as credit yet. */
  private unreturned = 0;
  private pending: PendingWrite | undefined;
  private sentSomething = false;
  /** Set when the peer reset the stream or the link died: do not send a reset back. */
  private remoteGone = false;
  private readonly mux: StreamMux;
  readonly streamId: number;
  private readonly beforeFirstSend: (() => void) | undefined;

  constructor(mux: StreamMux, id: number, window: number, beforeFirstSend?: () => void) {
    super({ allowHalfOpen: true });
    this.mux = mux;
    this.streamId = id;
    this.credit = window;
    this.peerAllowance = window;
    this.beforeFirstSend = beforeFirstSend;
  }

  private firstSend(): void {
    if (this.sentSomething) return;
    this.sentSomething = true;
    this.beforeFirstSend?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pending = { chunk, callback };
    this.flush();
  }

  /** Sends as much of the pending write as credit allows; completes it when all is sent. */
  private flush(): void {
    const p = this.pending;
    if (!p) return;
    while (p.chunk.length > 0 && this.credit > 0) {
      const n = Math.min(p.chunk.length, this.credit, MAX_DATA_FRAME_BYTES);
      this.firstSend();
      this.mux.transport.sendFrame(encodeDataFrame(this.streamId, p.chunk.subarray(0, n)));
      this.credit -= n;
      p.chunk = p.chunk.subarray(n);
    }
    if (p.chunk.length === 0) {
      this.pending = undefined;
      p.callback();
    }
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.firstSend();
    this.mux.transport.sendControl({ type: 'stream-end', stream: this.streamId });
    callback();
    this.maybeForget();
  }

  override _read(): void {
    this.returnCredit();
  }

  private returnCredit(): void {
    if (this.unreturned === 0 || this.remoteGone || this.destroyed) return;
    const bytes = this.unreturned;
    this.unreturned = 0;
    this.peerAllowance += bytes;
    this.mux.transport.sendControl({ type: 'stream-credit', stream: this.streamId, bytes });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const p = this.pending;
    this.pending = undefined;
    if (!this.remoteGone && !(this.readableEnded && this.writableFinished)) {
      this.mux.transport.sendControl({ type: 'stream-reset', stream: this.streamId, message: err ? err.message : 'stream closed' });
    }
    this.mux.forget(this.streamId);
    p?.callback(err ?? new LinkError(LinkErrorCode.TUNNEL_RESET, 'the stream was closed'));
    callback(err);
  }

  private maybeForget(): void {
    if (this.readableEnded && this.writableFinished) this.mux.forget(this.streamId);
  }

  // ---- from the peer ----

  onData(data: Buffer): void {
    if (this.destroyed || this.readableEnded) return;
    this.peerAllowance -= data.length;
    if (this.peerAllowance < 0) {
      this.destroy(new LinkError(LinkErrorCode.LINK_PROTOCOL, `the peer sent more than the stream window on stream ${this.streamId}`));
      return;
    }
    this.unreturned += data.length;
    // Return credit early while the reader keeps up; otherwise _read returns it when it drains.
    if (this.push(data) && this.unreturned >= STREAM_WINDOW_BYTES / 4) this.returnCredit();
  }

  onEnd(): void {
    if (this.destroyed) return;
    this.push(null);
    this.once('end', () => this.maybeForget());
  }

  onCredit(bytes: number): void {
    this.credit += bytes;
    this.flush();
  }

  onReset(message: string): void {
    this.remoteGone = true;
    this.destroy(new LinkError(LinkErrorCode.TUNNEL_RESET, message));
  }

  onLinkClosed(message: string): void {
    this.remoteGone = true;
    this.destroy(new LinkError(LinkErrorCode.LINK_CLOSED, message));
  }
}

export class StreamMux {
  readonly transport: MuxTransport;
  private readonly streams = new Map<number, MuxStream>();
  private readonly window: number;

  constructor(transport: MuxTransport, opts: { window?: number } = {}) {
    this.transport = transport;
    this.window = opts.window ?? STREAM_WINDOW_BYTES;
  }

  /** A new local end for stream `id`. `beforeFirstSend` runs once, before its first byte or end goes out. */
  open(id: number, beforeFirstSend?: () => void): Duplex {
    if (this.streams.has(id)) throw new LinkError(LinkErrorCode.LINK_PROTOCOL, `stream ${id} is already open`);
    const s = new MuxStream(this, id, this.window, beforeFirstSend);
    // A stream nobody listens to for errors must not crash the process.
    s.on('error', () => undefined);
    this.streams.set(id, s);
    return s;
  }

  get size(): number {
    return this.streams.size;
  }

  has(id: number): boolean {
    return this.streams.has(id);
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  onFrame(frame: Buffer): void {
    const f = decodeDataFrame(frame);
    if (!f) return;
    this.streams.get(f.stream)?.onData(f.data);
  }

  onControl(msg: StreamControlMessage): void {
    const s = this.streams.get(msg.stream);
    if (!s) return;
    switch (msg.type) {
      case 'stream-end':
        s.onEnd();
        break;
      case 'stream-credit':
        if (Number.isInteger(msg.bytes) && msg.bytes > 0) s.onCredit(msg.bytes);
        break;
      case 'stream-reset':
        s.onReset(msg.message);
        break;
    }
  }

  /** The link is gone: every stream fails. */
  closeAll(message: string): void {
    for (const s of [...this.streams.values()]) s.onLinkClosed(message);
    this.streams.clear();
  }
}
