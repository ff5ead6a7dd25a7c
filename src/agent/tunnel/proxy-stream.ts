/**
 * exec, attach and port-forward on the agent: connect to the CRI streaming URL the runtime
 * returned, replay the client's upgrade request there and splice the bytes of both connections.
 * The 101 (or containerd's refusal, which makes kubectl fall back from WebSocket to SPDY) travels
 * back unchanged; the stream protocols then run between kubectl and containerd, exit codes included.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { StreamingServerError } from './errors.ts';
import { replayHead } from './replay-head.ts';
import { splice } from '../../common/splice.ts';

const CONNECT_TIMEOUT_MS = 10_000;

function dial(target: URL): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const port = Number(target.port || 80);
    const sock = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port });
    const timer = setTimeout(() => sock.destroy(new Error(`no answer in ${CONNECT_TIMEOUT_MS / 1000}s`)), CONNECT_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new StreamingServerError(`connect to the runtime's streaming server ${target.host}: ${err.message}`, { cause: err }));
    });
  });
}

export async function proxyToStreamingServer(url: string, httpHead: Buffer | undefined, stream: Duplex): Promise<void> {
  const target = new URL(url);
  // edgeos configures containerd's streaming server as plain HTTP on 127.0.0.1
  // (src/runtime/containerd/config-toml.ts); enable_tls_streaming from a user template is refused.
  if (target.protocol !== 'http:') throw new StreamingServerError(`unsupported streaming URL scheme ${target.protocol} (${target.host})`);
  const head = replayHead(httpHead, target);
  const sock = await dial(target);
  sock.setNoDelay(true);
  if (stream.destroyed) {
    sock.destroy();
    return;
  }
  sock.write(head);
  await splice(stream, sock);
}
