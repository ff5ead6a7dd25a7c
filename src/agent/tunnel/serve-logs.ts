/**
 * kubectl logs on the agent: the container's CRI log as plain text, like the kubelet's
 * /containerLogs handler. The current instance is the newest one, running or not (the kubelet
 * shows the last terminated instance of a container that waits to restart); `previous` reads the
 * instance before it. With `timestamps` each line starts with the runtime's RFC3339Nano time and
 * a space; `limitBytes` counts what is written, timestamps included (kubelet's LimitWriter).
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.ts';
import type { TunnelRequest } from '../../common/tunnel.ts';
import { RuntimeNotFoundError, formatLogEntry } from '../../runtime/index.ts';
import type { ContainerRuntime, LogEntry, LogOptions } from '../../runtime/index.ts';
import { ContainerWaitingError, NoPreviousContainerError } from './errors.ts';
import { containerInstances } from './find-pod.ts';
import { writeOrClose } from './write-or-close.ts';

export type LogsRequest = Extract<TunnelRequest, { kind: 'logs' }>;

export function logOptions(req: LogsRequest, now: number): LogOptions {
  const opts: LogOptions = { follow: req.follow, previous: req.previous };
  if (req.tailLines !== undefined) opts.tailLines = req.tailLines;
  // The runtime's limit counts line content only, never more than we write: a safe upper bound.
  if (req.limitBytes !== undefined) opts.limitBytes = req.limitBytes;
  if (req.sinceSeconds !== undefined) opts.sinceMs = now - req.sinceSeconds * 1000;
  else if (req.sinceTime !== undefined) opts.sinceMs = Date.parse(req.sinceTime);
  return opts;
}

export async function serveLogs(runtime: ContainerRuntime, req: LogsRequest, stream: Duplex, log: Logger): Promise<void> {
  const [current] = await containerInstances(runtime, req, req.container);
  if (!current) throw new ContainerWaitingError(req.container, req.name, 'ContainerCreating');
  const stop = new AbortController();
  const onClose = (): void => stop.abort();
  stream.once('close', onClose);
  const entries = runtime.readLogs(current.id, logOptions(req, Date.now()), stop.signal)[Symbol.asyncIterator]();
  try {
    // The first entry is awaited before anything is written, so a missing log file still fails
    // the request (TUNNEL_FAILED → an error kubectl prints) instead of an empty 200.
    let next: IteratorResult<LogEntry>;
    try {
      next = await entries.next();
    } catch (err) {
      if (req.previous && err instanceof RuntimeNotFoundError) throw new NoPreviousContainerError(req.container, req.name, { cause: err });
      throw err;
    }
    let budget = req.limitBytes ?? Infinity;
    while (!next.done && budget > 0 && !stop.signal.aborted) {
      let text = Buffer.from(formatLogEntry(next.value, req.timestamps));
      if (text.length > budget) text = text.subarray(0, budget);
      budget -= text.length;
      if (!(await writeOrClose(stream, text))) break;
      if (budget <= 0) break;
      next = await entries.next();
    }
    if (!stream.destroyed) stream.end();
  } finally {
    stream.off('close', onClose);
    await entries.return?.(undefined);
  }
  log.debug({ pod: `${req.namespace}/${req.name}`, container: req.container, follow: req.follow }, 'log stream ended');
}
