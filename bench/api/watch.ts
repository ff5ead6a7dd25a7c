// Watch fan-out latency: N watch streams on the bench namespace's pods, each on its own connection.
// A stream's arrival time for an event is taken when the chunk carrying it arrives (before this
// process parses it), keyed by the object's resourceVersion, which the write's response also names.
import { Client } from 'undici';
import type { Credentials } from './server.ts';

export interface Watchers {
  /** Arrival times (performance.now()) of each watcher's events, by resourceVersion. */
  readonly arrivals: Map<string, number>[];
  /** Resolves once every watcher has seen every resourceVersion in `rvs`, or rejects after `timeoutMs`. */
  waitFor(rvs: readonly string[], timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function openWatchers(url: string, creds: Credentials, n: number, path: string): Promise<Watchers> {
  const clients = Array.from({ length: n }, () => new Client(url, {
    connect: { ca: creds.ca, cert: creds.cert, key: creds.key },
    headersTimeout: 30_000,
    bodyTimeout: 0,
  }));
  const arrivals = clients.map(() => new Map<string, number>());
  const abort = new AbortController();
  const ended: Promise<void>[] = [];
  let failure: Error | undefined;
  const close = async (): Promise<void> => {
    abort.abort();
    await Promise.allSettled(ended);
    await Promise.all(clients.map((c) => c.destroy()));
  };
  const opening = Promise.all(clients.map(async (client, i) => {
    const r = await client.request({ method: 'GET', path, headers: { accept: 'application/json' }, signal: abort.signal });
    if (r.statusCode !== 200) throw new Error(`watch ${path} → ${r.statusCode} ${await r.body.text()}`);
    const seen = arrivals[i]!;
    ended.push((async () => {
      let buf = '';
      try {
        for await (const chunk of r.body) {
          const at = performance.now();
          buf += (chunk as Buffer).toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const ev = JSON.parse(line) as { type: string; object: { metadata?: { resourceVersion?: string } } };
            if (ev.type === 'ERROR') failure ??= new Error(`watch ${path}: ERROR event ${line.slice(0, 300)}`);
            const rv = ev.object.metadata?.resourceVersion;
            if (rv !== undefined && !seen.has(rv)) seen.set(rv, at);
          }
        }
      } catch (e) {
        if (!abort.signal.aborted) failure ??= e as Error;
      }
    })());
  }));
  try {
    await opening;
  } catch (e) {
    await close();
    throw e;
  }
  return {
    arrivals,
    waitFor: async (rvs, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure) throw failure;
        const missing = arrivals.reduce((m, seen) => m + rvs.filter((rv) => !seen.has(rv)).length, 0);
        if (missing === 0) return;
        if (Date.now() > deadline) throw new Error(`watchers are missing ${missing} of ${rvs.length * n} events after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close,
  };
}
