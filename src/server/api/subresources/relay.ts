/**
 * Relays a body streamed from a node's agent to the HTTP response: the end of the stream ends the
 * response; a stream torn down before its end (the agent or its link went away) cuts the
 * response off, as apiserver does when its connection to the kubelet breaks.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../common/log.ts';

export function relayToResponse(stream: Duplex, res: ServerResponse, log: Logger, what: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const finish = (): void => {
      stream.destroy();
      resolve();
    };
    stream.once('end', () => res.end(finish));
    stream.once('close', () => {
      if (stream.readableEnded) return;
      res.destroy();
      finish();
    });
    stream.once('error', (err) => log.debug({ err }, `${what} from the agent failed`));
    res.once('close', finish);
    stream.pipe(res, { end: false });
    stream.resume();
  });
}
