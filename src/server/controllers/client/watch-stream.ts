// A watch as an async iterable: one JSON event per line of a chunked response (apiserver's
// watch encoding). Aborting the signal ends the iteration quietly.
import type { Dispatcher } from 'undici';
import { ApiError } from '../types.ts';
import type { KubeObject, WatchEvent } from '../types.ts';
import { errorFromStatus } from './api-errors.ts';

export async function* watchLines<T extends KubeObject>(
  pool: Dispatcher,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  what: string,
): AsyncGenerator<WatchEvent<T>> {
  let res: Dispatcher.ResponseData;
  try {
    res = await pool.request({ method: 'GET', path, headers, signal });
  } catch (err) {
    if (signal.aborted) return;
    throw new ApiError(0, 'ConnectionFailed', `${what}: ${(err as Error).message}`, { cause: err });
  }
  if (res.statusCode >= 300) throw errorFromStatus(res.statusCode, await res.body.text(), what);
  let buf = '';
  try {
    for await (const chunk of res.body) {
      buf += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) yield JSON.parse(line) as WatchEvent<T>;
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw new ApiError(0, 'WatchFailed', `${what}: ${(err as Error).message}`, { cause: err });
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
  const rest = buf.trim();
  if (rest) yield JSON.parse(rest) as WatchEvent<T>;
}
