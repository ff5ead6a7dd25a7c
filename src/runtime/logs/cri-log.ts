import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { LogEntry, LogOptions, LogStream } from '../types.ts';

/**
 * Reader for CRI-format container logs, the files containerd writes for each container:
 *   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>
 * "P" marks a line the runtime split (over 16 KiB); the pieces are joined back into one entry
 * until the "F" piece, as kubelet's reader does.
 */
export interface RawLogLine {
  timestamp: string;
  stream: LogStream;
  partial: boolean;
  content: string;
}

export function parseCriLogLine(line: string): RawLogLine | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a <= 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // An empty line is written as "<ts> stdout F " or, from older runtimes, without the last space.
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  if (tag !== 'F' && tag !== 'P' && !tag.startsWith('F:') && !tag.startsWith('P:')) return undefined;
  return { timestamp: line.slice(0, a), stream, partial: tag[0] === 'P', content: c < 0 ? '' : line.slice(c + 1) };
}

/** Parses "2024-01-02T03:04:05.123456789Z" to ms; Date.parse drops digits past milliseconds. */
export function timestampMs(ts: string): number {
  return Date.parse(ts);
}

/** Joins partial pieces per stream into entries; keeps unfinished pieces across calls. */
export class LogAssembler {
  private pending = new Map<LogStream, RawLogLine>();

  push(raw: RawLogLine): LogEntry | undefined {
    const prev = this.pending.get(raw.stream);
    const merged = prev ? { ...prev, content: prev.content + raw.content, partial: raw.partial } : raw;
    if (merged.partial) {
      this.pending.set(raw.stream, merged);
      return undefined;
    }
    this.pending.delete(raw.stream);
    return { timestamp: merged.timestamp, stream: merged.stream, content: merged.content + '\n' };
  }

  /** Unfinished lines at the end of a log whose writer is gone. */
  flush(): LogEntry[] {
    const out = [...this.pending.values()].map((p) => ({ timestamp: p.timestamp, stream: p.stream, content: p.content }));
    this.pending.clear();
    return out;
  }
}

export interface FollowControl {
  /** Whether more may still be written (the container is running). */
  stillWriting: () => Promise<boolean>;
  signal?: AbortSignal;
  pollMs?: number;
}

function wanted(e: LogEntry, opts: LogOptions): boolean {
  if (opts.stream && opts.stream !== 'all' && e.stream !== opts.stream) return false;
  if (opts.sinceMs !== undefined && timestampMs(e.timestamp) < opts.sinceMs) return false;
  return true;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(done, ms);
  function done(): void {
    clearTimeout(t);
    signal?.removeEventListener('abort', done);
    resolve();
  }
  signal?.addEventListener('abort', done, { once: true });
});

/**
 * Entries of one log file with since/tail/stream/limitBytes applied; with follow, keeps reading as
 * the file grows (and reopens it after rotation) until stillWriting() turns false and the file
 * has been drained, or the signal aborts.
 */
export async function* readCriLog(file: string, opts: LogOptions, follow?: FollowControl): AsyncGenerator<LogEntry> {
  const signal = follow?.signal;
  let budget = opts.limitBytes ?? Infinity;
  const emit = function* (entries: LogEntry[]): Generator<LogEntry, boolean> {
    for (const e of entries) {
      if (budget <= 0) return false;
      const bytes = Buffer.byteLength(e.content);
      if (bytes > budget) {
        yield { ...e, content: Buffer.from(e.content).subarray(0, budget).toString() };
        budget = 0;
        return false;
      }
      budget -= bytes;
      yield e;
    }
    return budget > 0;
  };

  let fh: FileHandle = await open(file, 'r');
  let ino = (await fh.stat()).ino;
  let offset = 0;
  let rest = '';
  const asm = new LogAssembler();
  const drain = async (): Promise<LogEntry[]> => {
    const out: LogEntry[] = [];
    for (;;) {
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      const lines = (rest + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const raw = parseCriLogLine(line);
        const e = raw && asm.push(raw);
        if (e && wanted(e, opts)) out.push(e);
      }
    }
    return out;
  };

  try {
    let first = await drain();
    if (!follow) first.push(...asm.flush().filter((e) => wanted(e, opts)));
    if (opts.tailLines !== undefined) first = opts.tailLines <= 0 ? [] : first.slice(-opts.tailLines);
    if (!(yield* emit(first)) || !follow) return;
    const pollMs = follow.pollMs ?? 250;
    let quietSince = Date.now();
    while (!signal?.aborted) {
      const more = await drain();
      if (more.length > 0) {
        quietSince = Date.now();
        if (!(yield* emit(more))) return;
        continue;
      }
      const st = await stat(file).catch(() => undefined);
      if (st && (st.ino !== ino || st.size < offset)) {
        // Rotated (new inode) or truncated: continue with the file now at that path.
        await fh.close();
        fh = await open(file, 'r');
        ino = (await fh.stat()).ino;
        offset = 0;
        rest = '';
        continue;
      }
      if (Date.now() - quietSince >= pollMs && !(await follow.stillWriting())) {
        const tail = await drain();
        yield* emit([...tail, ...asm.flush().filter((e) => wanted(e, opts))]);
        return;
      }
      await sleep(pollMs, signal);
    }
  } finally {
    await fh.close();
  }
}

/** kubectl's output form: the content, with "<timestamp> " in front when timestamps are asked for. */
export function formatLogEntry(e: LogEntry, timestamps: boolean): string {
  return timestamps ? `${e.timestamp} ${e.content}` : e.content;
}
