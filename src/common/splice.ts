import type { Duplex } from 'node:stream';

/**
 * Pipes two byte streams into each other until both are done. An end (FIN) is passed on as an
 * end, so the last bytes still arrive; a side that goes away without ending, or fails, takes the
 * other down with it. Resolves once both are closed.
 */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  a.pipe(b);
  b.pipe(a);
  const closed = (s: Duplex): Promise<void> => new Promise((resolve) => {
    if (s.closed) resolve();
    else s.once('close', () => resolve());
  });
  const abortOther = (self: Duplex, other: Duplex) => (): void => {
    if (!self.readableEnded) other.destroy();
  };
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', abortOther(a, b));
  b.once('close', abortOther(b, a));
  return Promise.all([closed(a), closed(b)]).then(() => undefined);
}
