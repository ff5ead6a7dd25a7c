/** The link over a WebSocket (ws): text messages, binary stream frames, WebSocket pings. */
import { WebSocket } from 'ws';
import type { LinkTransport } from './transport.ts';

export function webSocketTransport(ws: WebSocket): LinkTransport {
  return {
    attach(h) {
      ws.on('message', (data, isBinary) => {
        if (isBinary) h.binary(data as Buffer);
        else h.text((data as Buffer).toString('utf8'));
      });
      ws.on('ping', () => h.heard());
      ws.on('pong', () => h.heard());
      ws.once('close', (code, reason) => h.closed(code, reason.toString()));
      // The close that follows an error reports it.
      ws.on('error', () => undefined);
    },
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
    get bufferedBytes() {
      return ws.bufferedAmount;
    },
    sendText(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    sendBinary(frame) {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    },
    ping() {
      try {
        ws.ping();
      } catch {
        /* closing: the close handler finishes the link */
      }
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
  };
}
