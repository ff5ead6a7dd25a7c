/**
 * One end of the link, the same on the agent and on the server: message ids, requests awaiting
 * their ack (with an optional timeout or cancellation), the keepalive, the stream multiplexer,
 * and what a frame that is not a known message gets. What a message means is the owner's business
 * (`onMessage`); the peer answers acks and stream control itself.
 *
 * Unknown and invalid input: a well-formed message of a type this end does not know (a newer
 * peer) is refused with an error ack (LINK_PROTOCOL) and the link stays up; a text frame that is
 * not a message at all (not JSON, no `type` or `id`) closes the link (LinkCloseCode.PROTOCOL).
 *
 * When the link ends (either side closed, the transport broke, or the keepalive found the other
 * end silent) every stream fails, every pending request is rejected with `closedError`, and
 * `closed` resolves with why.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import type { LinkErrorCode } from './errors.ts';
import { Keepalive } from './keepalive.ts';
import { LinkCloseCode, unknownMessageError } from './protocol.ts';
import { RELAY_MAX_BUFFERED_BYTES, isRelayFrame } from './relay.ts';
import type { AckMessage, Parsed, StreamControlMessage, WithoutId } from './protocol.ts';
import { StreamMux } from './stream-mux.ts';
import type { LinkTransport } from './transport.ts';

type Message = { readonly type: string; readonly id: number };

/** A terminated transport may never report its close; it is dropped this long after close(). */
const TERMINATE_AFTER_CLOSE_MS = 2000;
/**
 * A link whose other end leaves more than this unread is dropped rather than buffered without
 * bound (a slow or dead agent must not grow the server's memory): its agent reconnects and resumes
 * from the revision it stored. Tunnel streams stay far below it (256 KiB credit per stream).
 */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface LinkPeerOptions<In extends Message> {
  readonly transport: LinkTransport;
  /** This end, for the error a message of an unknown type is refused with. */
  readonly self: 'agent' | 'server';
  /** The other end, for log lines ("the agent …", "the server …"). */
  readonly other: 'agent' | 'server';
  readonly parse: (text: string) => Parsed<In>;
  /** Every message of the other end except acks and stream control. */
  readonly onMessage: (m: Exclude<In, AckMessage | StreamControlMessage>) => void;
  readonly keepalive: { readonly pingAfterMs: number; readonly deadAfterMs: number };
  /** Each keepalive ping sent (only after a silent interval). */
  readonly onPing?: () => void;
  /** The error pending requests fail with when the link ends (`why` says how it ended). */
  readonly closedError: (why: string) => Error;
  /** The message streams fail with when the link ends. */
  readonly streamsClosedMessage: string;
  readonly log: Logger;
  /** Frames of the pod network relay's channel (relay.ts); without it they are ignored. */
  readonly onRelay?: (frame: Buffer) => void;
  /** Unread bytes after which the link is dropped (default MAX_BUFFERED_BYTES; tests lower it). */
  readonly maxBufferedBytes?: number;
}

interface Pending {
  resolve(ack: AckMessage): void;
  reject(err: Error): void;
}

export interface RequestOptions {
  /** Fails the request with `timeoutError()` when no ack arrived in time; a late ack is ignored. */
  readonly timeoutMs?: number;
  readonly timeoutError?: () => Error;
  /** Fails the request with the signal's reason (an Error) or `cancelledError()`. */
  readonly signal?: AbortSignal;
  readonly cancelledError?: () => Error;
}

export class LinkPeer<In extends Message, Out extends Message> {
  readonly mux: StreamMux;
  /** Resolves with why once the link ended. */
  readonly closed: Promise<string>;
  private readonly o: LinkPeerOptions<In>;
  private readonly keepalive: Keepalive;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended = false;
  private markClosed!: (why: string) => void;

  constructor(o: LinkPeerOptions<In>) {
    this.o = o;
    this.closed = new Promise<string>((r) => (this.markClosed = r));
    this.mux = new StreamMux({ sendControl: (m) => this.write(m), sendFrame: (f) => o.transport.sendBinary(f) });
    this.keepalive = new Keepalive({
      pingAfterMs: o.keepalive.pingAfterMs,
      deadAfterMs: o.keepalive.deadAfterMs,
      ping: () => {
        o.onPing?.();
        o.transport.ping();
      },
      dead: (silentMs) => {
        o.log.warn({ silentMs }, `the ${o.other} stopped answering pings: dropping the link`);
        this.terminate('ping timeout');
      },
    });
    o.transport.attach({
      text: (t) => {
        this.keepalive.heard();
        this.onText(t);
      },
      binary: (f) => {
        this.keepalive.heard();
        if (isRelayFrame(f)) o.onRelay?.(f);
        else this.mux.onFrame(f);
      },
      heard: () => this.keepalive.heard(),
      closed: (code, reason) => this.finish(`closed (${code}${reason ? ` ${reason}` : ''})`),
    });
  }

  /** True until the link ended. */
  get open(): boolean {
    return !this.ended && this.o.transport.open;
  }

  /** Sends a message with the next id; returns the id. */
  send(m: WithoutId<Out>): number {
    return this.write(m);
  }

  /**
   * Sends a frame of the relay channel unless the link already holds more than
   * RELAY_MAX_BUFFERED_BYTES unsent (or is down): false when it was dropped. Packets are
   * datagrams; queueing them would only delay the link's own messages.
   */
  sendRelay(frame: Buffer): boolean {
    if (!this.open || this.o.transport.bufferedBytes > RELAY_MAX_BUFFERED_BYTES) return false;
    this.o.transport.sendBinary(frame);
    return true;
  }

  /** Sends a request and resolves with its ack, an error ack included (the caller decides what a refusal means). */
  request(m: WithoutId<Out>, opts: RequestOptions = {}): Promise<AckMessage> {
    if (!this.open) return Promise.reject(this.o.closedError('the link is down'));
    const { signal } = opts;
    const cancelled = () => (signal?.reason instanceof Error ? signal.reason : (opts.cancelledError?.() ?? new Error('the request was cancelled')));
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<AckMessage>((resolve, reject) => {
      const id = this.write(m);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(cancelled()));
      const settle = (then: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        then();
      };
      this.pending.set(id, { resolve: (ack) => settle(() => resolve(ack)), reject: (err) => settle(() => reject(err)) });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => settle(() => reject(opts.timeoutError?.() ?? new Error(`no answer within ${opts.timeoutMs} ms`))), opts.timeoutMs);
        timer.unref();
      }
    });
  }

  /** Answers request `id`: accepted, with what `extra` carries. */
  ack(id: number, extra: Omit<AckMessage, 'type' | 'id' | 'error'> = {}): void {
    this.sendText(JSON.stringify({ type: 'ack', id, ...extra }));
  }

  /** Answers request `id`: refused. */
  refuse(id: number, error: { code: LinkErrorCode; message: string }): void {
    this.sendText(JSON.stringify({ type: 'ack', id, error }));
  }

  /** Opens stream `id` locally (StreamMux.open). */
  openStream(id: number, beforeFirstSend?: () => void): Duplex {
    return this.mux.open(id, beforeFirstSend);
  }

  /** Closes the link in order; the transport is dropped if it does not finish closing. */
  close(code: number, reason: string): void {
    if (this.ended) return;
    this.o.transport.close(code, reason);
    this.finish(reason);
    setTimeout(() => this.o.transport.terminate(), TERMINATE_AFTER_CLOSE_MS).unref();
  }

  /** Drops the link at once. */
  terminate(why: string): void {
    this.o.transport.terminate();
    this.finish(why);
  }

  private write(m: object): number {
    const id = this.nextId++;
    this.sendText(JSON.stringify({ ...m, id }));
    return id;
  }

  private sendText(text: string): void {
    const backlog = this.o.transport.bufferedBytes;
    if (backlog > (this.o.maxBufferedBytes ?? MAX_BUFFERED_BYTES)) {
      if (this.ended) return;
      this.o.log.warn({ bufferedBytes: backlog }, `the ${this.o.other} does not read what this link sends: dropping the link`);
      this.terminate('the other end does not read');
      return;
    }
    this.o.transport.sendText(text);
  }

  private onText(text: string): void {
    const parsed = this.o.parse(text);
    if (parsed.kind === 'unknown') {
      // A newer peer: its request fails with a clear error, the link stays up.
      this.o.log.warn({ type: parsed.type }, `the ${this.o.other} sent a message type this ${this.o.self} does not know: refused`);
      this.refuse(parsed.id, unknownMessageError(parsed.type, this.o.self));
      return;
    }
    if (parsed.kind === 'invalid') {
      this.o.log.warn(`the ${this.o.other} sent a message that is not part of the link protocol: closing the link`);
      this.close(LinkCloseCode.PROTOCOL, 'protocol error');
      return;
    }
    const m = parsed.message as In | AckMessage | StreamControlMessage;
    switch (m.type) {
      case 'ack':
        // An ack of a request that timed out or was cancelled finds nothing.
        this.pending.get(m.id)?.resolve(m as AckMessage);
        return;
      case 'stream-end':
      case 'stream-reset':
      case 'stream-credit':
        this.mux.onControl(m as StreamControlMessage);
        return;
      default:
        this.o.onMessage(m as Exclude<In, AckMessage | StreamControlMessage>);
    }
  }

  private finish(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.keepalive.stop();
    this.mux.closeAll(this.o.streamsClosedMessage);
    const err = this.o.closedError(why);
    for (const p of [...this.pending.values()]) p.reject(err);
    this.pending.clear();
    this.markClosed(why);
  }
}
