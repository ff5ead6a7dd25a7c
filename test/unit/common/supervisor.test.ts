import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSupervisor, startWhen } from '../../../src/common/supervisor.ts';
import type { Component } from '../../../src/common/supervisor.ts';

/** A logger whose JSON lines the test reads back. */
function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A component that records its calls into `events`. */
function recorder(events: string[], name: string, o: { failStart?: Error; stopMs?: number; ready?: Promise<void>; deadline?: number; hangStart?: boolean } = {}): Component & { signal?: AbortSignal } {
  const c: Component & { signal?: AbortSignal } = {
    name,
    ...(o.deadline !== undefined ? { stopDeadlineMs: o.deadline } : {}),
    ...(o.ready ? { ready: o.ready } : {}),
    async start(signal) {
      c.signal = signal;
      events.push(`start ${name}`);
      if (o.hangStart) {
        await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
      }
      if (o.failStart) throw o.failStart;
    },
    async stop() {
      events.push(`stop ${name}`);
      if (o.stopMs) await new Promise((r) => setTimeout(r, o.stopMs));
    },
  };
  return c;
}

describe('supervisor', () => {
  it('starts in order and stops in reverse', async () => {
    const { log } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log });
    for (const n of ['a', 'b', 'c']) s.add(recorder(events, n));
    await s.start(new AbortController().signal);
    expect(events).toEqual(['start a', 'start b', 'start c']);
    await s.stop();
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(await s.stopped).toEqual({ failure: undefined, abandoned: [] });
    await s.stop(); // idempotent
    expect(events).toHaveLength(6);
  });

  it('stops what started, the failing component included, when a start fails, and rejects with its error', async () => {
    const { log, lines } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log });
    const boom = new Error('no socket');
    s.add(recorder(events, 'a'));
    s.add(recorder(events, 'b', { failStart: boom }));
    s.add(recorder(events, 'c'));
    await expect(s.start(new AbortController().signal)).rejects.toBe(boom);
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect((await s.stopped).failure).toBe(boom);
    expect(lines).toContainEqual(expect.objectContaining({ part: 'b', err: 'no socket', msg: 'failed to start' }));
  });

  it('turns a background failure into a stop in reverse order', async () => {
    const { log, lines } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log });
    for (const n of ['a', 'b', 'c']) s.add(recorder(events, n));
    await s.start(new AbortController().signal);
    const err = new Error('containerd exited');
    s.fail('b', err);
    s.fail('c', new Error('a second one'));
    const report = await s.stopped;
    expect(report).toEqual({ failure: err, abandoned: [] });
    expect(events.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(s.stopping).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, part: 'b', err: 'containerd exited' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, part: 'c', err: 'a second one', msg: 'failed while stopping' }));
  });

  it('aborts the signal it gives components when it stops', async () => {
    const { log } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log });
    const a = recorder(events, 'a');
    s.add(a);
    await s.start(new AbortController().signal);
    expect(a.signal?.aborted).toBe(false);
    await s.stop();
    expect(a.signal?.aborted).toBe(true);
  });

  it('stops when the start signal aborts, also in the middle of a start, without calling that a failure', async () => {
    const { log } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log });
    s.add(recorder(events, 'a'));
    s.add(recorder(events, 'b', { hangStart: true }));
    s.add(recorder(events, 'c'));
    const ctl = new AbortController();
    const starting = s.start(ctl.signal);
    await tick();
    ctl.abort();
    await starting; // resolves: a stop is not a start failure
    expect(await s.stopped).toEqual({ failure: undefined, abandoned: [] });
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('abandons a component that does not stop in time and goes on with the others', async () => {
    const { log, lines } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log, stopDeadlineMs: 1000 });
    s.add(recorder(events, 'a'));
    s.add(recorder(events, 'stuck', { stopMs: 60_000, deadline: 50 }));
    s.add(recorder(events, 'c'));
    await s.start(new AbortController().signal);
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await s.stopped).toEqual({ failure: undefined, abandoned: ['stuck'] });
    expect(events.slice(3)).toEqual(['stop c', 'stop stuck', 'stop a']);
    expect(lines).toContainEqual(expect.objectContaining({ part: 'stuck', deadlineMs: 50, msg: 'did not stop in time: abandoned' }));
  });

  it('gives a nested supervisor the sum of its components\' deadlines', () => {
    const { log } = memoryLog();
    const inner = createSupervisor({ name: 'inner', log, stopDeadlineMs: 100 });
    inner.add(recorder([], 'a'));
    inner.add(recorder([], 'b', { deadline: 250 }));
    expect(inner.stopDeadlineMs).toBe(350);
  });

  it('passes a nested failure to its owner once, which stops the whole tree in reverse', async () => {
    const { log } = memoryLog();
    const events: string[] = [];
    const parent = createSupervisor({ name: 'parent', log });
    const told: Error[] = [];
    const child = createSupervisor({ name: 'child', log, onFailure: (err) => { told.push(err); parent.fail('child', err); } });
    child.add(recorder(events, 'c1'));
    child.add(recorder(events, 'c2'));
    parent.add(recorder(events, 'p1'));
    parent.add(child);
    parent.add(recorder(events, 'p3'));
    await parent.start(new AbortController().signal);
    const err = new Error('runtime gone');
    child.fail('c2', err);
    child.fail('c1', new Error('and another'));
    expect(told).toEqual([err]);
    expect((await parent.stopped).failure).toBe(err);
    expect((await child.stopped).failure).toBe(err);
    expect(events.slice(4)).toEqual(['stop p3', 'stop c2', 'stop c1', 'stop p1']);
  });

  it('is ready once every component is; a component that fails to get ready stops everything', async () => {
    const { log } = memoryLog();
    let readyA!: () => void;
    const s = createSupervisor({ name: 't', log });
    s.add(recorder([], 'a', { ready: new Promise<void>((r) => (readyA = r)) }));
    s.add(recorder([], 'b'));
    await s.start(new AbortController().signal);
    let ready = false;
    void s.ready.then(() => (ready = true));
    await tick();
    expect(ready).toBe(false);
    readyA();
    await tick();
    expect(ready).toBe(true);

    const t = createSupervisor({ name: 't2', log });
    const bootstrap = Promise.reject(new Error('bootstrap failed'));
    t.add(recorder([], 'api', { ready: bootstrap }));
    await t.start(new AbortController().signal);
    expect((await t.stopped).failure?.message).toBe('bootstrap failed');
  });

  it('starts a gated component in the background once its gate opens, and reports its start failure', async () => {
    const { log } = memoryLog();
    const events: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const failures: Error[] = [];
    const s = createSupervisor({ name: 't', log });
    s.add(recorder(events, 'api'));
    s.add(startWhen(() => gate, recorder(events, 'controllers', { failStart: new Error('no client') }), (err) => failures.push(err)));
    await s.start(new AbortController().signal);
    expect(events).toEqual(['start api']);
    open();
    await tick();
    expect(events).toEqual(['start api', 'start controllers']);
    expect(failures.map((e) => e.message)).toEqual(['no client']);
    await s.stop();
    expect(events.slice(2)).toEqual(['stop controllers', 'stop api']);
  });

  it('never starts a gated component when the stop comes first, and does not wait for its gate', async () => {
    const { log } = memoryLog();
    const events: string[] = [];
    const s = createSupervisor({ name: 't', log, stopDeadlineMs: 60_000 });
    s.add(startWhen(() => new Promise<void>(() => undefined), recorder(events, 'agent'), () => undefined));
    await s.start(new AbortController().signal);
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(events).toEqual([]);
    expect((await s.stopped).abandoned).toEqual([]);
  });
});

describe('runInForeground (a real process and real signals)', () => {
  const main = join(import.meta.dirname, 'fixtures', 'foreground-main.ts');

  function run(scenario: string) {
    const proc = spawn(process.execPath, [main, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | string>((r) => proc.on('exit', (code, sig) => r(code ?? sig ?? -1)));
    const until = async (text: string) => {
      const deadline = Date.now() + 20_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" in ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { proc, out: () => out, err: () => err, exited, until };
  }

  it('stops in reverse on the first SIGTERM and exits 0', async () => {
    const p = run('graceful');
    await p.until('started');
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toBe('start a\nstart b\nstarted\nstop b\nstop a\nstopped failure=none abandoned=\n');
    expect(p.err()).toContain('"signal":"SIGTERM","msg":"shutting down"');
  });

  it('exits at once on a second signal while the stop hangs', async () => {
    const p = run('hang');
    await p.until('started');
    p.proc.kill('SIGINT');
    await p.until('stop hang');
    p.proc.kill('SIGINT');
    expect(await p.exited).toBe(1);
    expect(p.out()).not.toContain('stop a');
    expect(p.err()).toContain('second signal: exiting now');
  });

  it('abandons a component past its deadline and the process still exits', async () => {
    const p = run('abandon');
    await p.until('started');
    const t0 = Date.now();
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.out()).toContain('stop stuck\nstop a\nstopped failure=none abandoned=stuck\n');
    expect(p.err()).toContain('did not stop in time: abandoned');
    expect(p.err()).toContain('handles are still open');
  });

  it('turns a background failure into a stop and a non-zero exit', async () => {
    const p = run('failure');
    expect(await p.exited).toBe(1);
    expect(p.out()).toBe('start a\nstart b\nstarted\nstop b\nstop a\nstopped failure=b broke abandoned=\n');
  });
});
