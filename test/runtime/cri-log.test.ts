import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLogEntry, LogAssembler, parseCriLogLine, readCriLog } from '../../src/runtime/logs/cri-log.ts';
import type { LogEntry, LogOptions } from '../../src/runtime/types.ts';

const dir = mkdtempSync('/tmp/eos-crilog-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = [
  '2026-01-01T00:00:01.000000001Z stdout F first',
  '2026-01-01T00:00:02.000000000Z stderr F warn',
  '2026-01-01T00:00:03.5Z stdout P long-',
  '2026-01-01T00:00:03.6Z stderr F interleaved',
  '2026-01-01T00:00:03.7Z stdout P line-',
  '2026-01-01T00:00:03.8Z stdout F end',
  '2026-01-01T00:00:04Z stdout F ',
  'garbage that is not CRI',
  '2026-01-01T00:00:05Z stdout F last with  spaces',
].join('\n') + '\n';

async function read(file: string, opts: LogOptions): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readCriLog(file, opts)) out.push(e);
  return out;
}

describe('CRI log format', () => {
  it('parses lines and rejects others', () => {
    expect(parseCriLogLine('2026-01-01T00:00:01Z stdout F hi there')).toEqual({ timestamp: '2026-01-01T00:00:01Z', stream: 'stdout', partial: false, content: 'hi there' });
    expect(parseCriLogLine('2026-01-01T00:00:01Z stderr P x')?.partial).toBe(true);
    expect(parseCriLogLine('2026-01-01T00:00:01Z stdout F')?.content).toBe('');
    expect(parseCriLogLine('2026-01-01T00:00:01Z stdin F x')).toBeUndefined();
    expect(parseCriLogLine('2026-01-01T00:00:01Z stdout X x')).toBeUndefined();
    expect(parseCriLogLine('')).toBeUndefined();
  });

  it('joins partial lines per stream', () => {
    const a = new LogAssembler();
    expect(a.push({ timestamp: 't1', stream: 'stdout', partial: true, content: 'ab' })).toBeUndefined();
    expect(a.push({ timestamp: 't2', stream: 'stderr', partial: false, content: 'x' })).toEqual({ timestamp: 't2', stream: 'stderr', content: 'x\n' });
    expect(a.push({ timestamp: 't3', stream: 'stdout', partial: false, content: 'c' })).toEqual({ timestamp: 't1', stream: 'stdout', content: 'abc\n' });
  });

  it('applies tail, since, stream and limitBytes to a file', async () => {
    const file = `${dir}/a.log`;
    writeFileSync(file, sample);
    const all = await read(file, {});
    expect(all.map((e) => e.content)).toEqual(['first\n', 'warn\n', 'interleaved\n', 'long-line-end\n', '\n', 'last with  spaces\n']);
    expect((await read(file, { tailLines: 2 })).map((e) => e.content)).toEqual(['\n', 'last with  spaces\n']);
    expect(await read(file, { tailLines: 0 })).toEqual([]);
    expect((await read(file, { stream: 'stderr' })).map((e) => e.content)).toEqual(['warn\n', 'interleaved\n']);
    expect((await read(file, { sinceMs: Date.parse('2026-01-01T00:00:03.6Z') })).map((e) => e.content)).toEqual(['interleaved\n', '\n', 'last with  spaces\n']);
    expect((await read(file, { limitBytes: 8 })).map((e) => e.content)).toEqual(['first\n', 'wa']);
    expect(formatLogEntry(all[0]!, true)).toBe('2026-01-01T00:00:01.000000001Z first\n');
    expect(formatLogEntry(all[0]!, false)).toBe('first\n');
  });

  it('follows a growing file until the writer is gone, across a rotation', async () => {
    const file = `${dir}/follow.log`;
    writeFileSync(file, '2026-01-01T00:00:01Z stdout F one\n');
    let writing = true;
    const got: string[] = [];
    const done = (async () => {
      for await (const e of readCriLog(file, { follow: true }, { stillWriting: async () => writing, pollMs: 20 })) got.push(e.content);
    })();
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(1);
    appendFileSync(file, '2026-01-01T00:00:02Z stdout P tw');
    appendFileSync(file, 'o-\n2026-01-01T00:00:02Z stdout F parts\n');
    await until(2);
    // kubelet-style rotation: the file is renamed away and a new one starts.
    rmSync(file);
    writeFileSync(file, '2026-01-01T00:00:03Z stderr F after rotation\n');
    await until(3);
    writing = false;
    await done;
    expect(got).toEqual(['one\n', 'two-parts\n', 'after rotation\n']);
  });

  it('stops following when the signal aborts', async () => {
    const file = `${dir}/abort.log`;
    writeFileSync(file, '2026-01-01T00:00:01Z stdout F one\n');
    const ac = new AbortController();
    const got: string[] = [];
    setTimeout(() => ac.abort(), 200);
    for await (const e of readCriLog(file, { follow: true }, { stillWriting: async () => true, signal: ac.signal, pollMs: 20 })) got.push(e.content);
    expect(got).toEqual(['one\n']);
  });
});
