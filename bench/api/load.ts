// Load drivers: N HTTPS clients, each one keep-alive connection (an undici Client, no pipelining)
// with the admin client certificate; closed loop (each client sends its next request when the
// previous one returns) and open loop (requests scheduled at fixed times, latency measured from the
// scheduled time, so a server that falls behind shows up as latency, not as a lower rate).
import { Client } from 'undici';
import type { Credentials } from './server.ts';

export interface Call {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: string;
  contentType?: string;
}

export interface Result {
  status: number;
  body: string;
}

export class Clients {
  readonly all: Client[];

  constructor(url: string, creds: Credentials, n: number) {
    this.all = Array.from({ length: n }, () => new Client(url, {
      connect: { ca: creds.ca, cert: creds.cert, key: creds.key },
      pipelining: 1,
      keepAliveTimeout: 120_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    }));
  }

  async send(i: number, call: Call): Promise<Result> {
    const client = this.all[i % this.all.length]!;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (call.body !== undefined) headers['content-type'] = call.contentType ?? 'application/json';
    const r = await client.request({ method: call.method, path: call.path, headers, body: call.body });
    return { status: r.statusCode, body: await r.body.text() };
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((c) => c.close().catch(() => c.destroy())));
  }
}

export interface Run {
  latenciesMs: number[];
  ok: number;
  errors: string[];
  seconds: number;
}

function check(r: Result, call: Call, run: Run): void {
  if (r.status >= 200 && r.status < 300) run.ok++;
  else if (run.errors.length < 5) run.errors.push(`${call.method} ${call.path} → ${r.status} ${r.body.slice(0, 200)}`);
  else run.errors.push('');
}

/** Every client sends `next(client, k)` back to back until `durationMs` has passed. */
export async function closedLoop(clients: Clients, durationMs: number, next: (client: number, k: number) => Call): Promise<Run> {
  const run: Run = { latenciesMs: [], ok: 0, errors: [], seconds: 0 };
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(clients.all.map(async (_, i) => {
    for (let k = 0; performance.now() < end; k++) {
      const call = next(i, k);
      const s = performance.now();
      check(await clients.send(i, call), call, run);
      run.latenciesMs.push(performance.now() - s);
    }
  }));
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

/** Sends `count` requests in total, `count` at most, as fast as the clients go (a fill). */
export async function closedLoopCount(clients: Clients, count: number, next: (n: number) => Call): Promise<Run> {
  const run: Run = { latenciesMs: [], ok: 0, errors: [], seconds: 0 };
  const t0 = performance.now();
  let n = 0;
  await Promise.all(clients.all.map(async (_, i) => {
    while (n < count) {
      const call = next(n++);
      const s = performance.now();
      check(await clients.send(i, call), call, run);
      run.latenciesMs.push(performance.now() - s);
    }
  }));
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

export interface OpenRun extends Run {
  /** How late this process issued requests relative to their schedule (its own event-loop lag). */
  sendLagMs: number[];
}

/**
 * Request n is due at t0 + n / ratePerS and goes to client n mod N (so each client gets every Nth
 * slot); its latency runs from its due time to the end of its response, including any wait behind
 * that client's previous request.
 */
export async function openLoop(clients: Clients, ratePerS: number, durationMs: number, next: (n: number) => Call): Promise<OpenRun> {
  const run: OpenRun = { latenciesMs: [], ok: 0, errors: [], seconds: 0, sendLagMs: [] };
  const total = Math.round((ratePerS * durationMs) / 1000);
  const interval = 1000 / ratePerS;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now() + 10;
  for (let n = 0; n < total; n++) {
    const due = t0 + n * interval;
    const wait = due - performance.now();
    // Never early: a request sent before its due time would report less than its latency.
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    run.sendLagMs.push(Math.max(0, performance.now() - due));
    const call = next(n);
    inflight.push(clients.send(n, call).then((r) => {
      check(r, call, run);
      run.latenciesMs.push(performance.now() - due);
    }));
  }
  await Promise.all(inflight);
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

export function summary(run: Run): string {
  const q = (p: number) => round(quantile(run.latenciesMs, p));
  return `${run.ok} ok, ${run.errors.length} errors in ${round(run.seconds)} s (${round(run.ok / run.seconds, 0)}/s); latency p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`;
}

/** A bench with failed requests measures something else: stop with the first few errors. */
export function requireClean(name: string, run: Run): void {
  if (run.errors.length > 0) throw new Error(`${name}: ${run.errors.length} requests failed, e.g.\n${run.errors.filter(Boolean).join('\n')}`);
}
