// `npm run bench -- api`: the Kubernetes API of a real `edgeos server` (bundled, --disable-controllers:
// the API alone, no scheduler or controllers writing) driven by 50 HTTPS clients, each one keep-alive
// connection with the admin client certificate. Phases, in this order, in one run:
//  0. baseline: GET /version (TLS + HTTP + authn, no store) closed loop, and the idle server's RSS;
//  1. create_p99_ms: POST of a ~1.2 KB pod at an offered 200/s (open loop) for 15 s, after 1,000
//     warm-up creates;
//  2. rss_mb_10k_pods: creates (closed loop) until exactly 10,000 pods exist, full GC in the
//     server, 3 s idle, VmRSS;
//  3. get_p99_ms: GET of random pods among the 10,000 offered at 1,000/s (open loop) for 10 s,
//     after 1,000 warm-up GETs;
//     then the same GETs closed loop for 10 s (throughput and p99, progress line only);
//  4. list_p99_ms: GET …/pods?limit=500 (the first page of 10,000), closed loop, 10 s;
//  5. watch_p99_ms: 50 watch streams; 300 writes (creates and merge patches alternately) at 50/s
//     from one client; latency from each write's response to the event on each stream;
//  6. writes_per_s: creates in closed loop for 10 s (last: it leaves the pod count open-ended).
// Last line: {"bench":"api","create_p99_ms":…,"get_p99_ms":…,"list_p99_ms":…,"watch_p99_ms":…,
// "writes_per_s":…,"rss_mb_10k_pods":…}. See README.md for what each number includes.
import { availableParallelism, loadavg } from 'node:os';
import { Clients, closedLoop, closedLoopCount, openLoop, quantile, requireClean, round, summary } from './load.ts';
import type { Call } from './load.ts';
import { podJson } from './pod.ts';
import { startBundledServer } from './server.ts';
import type { BenchServer } from './server.ts';
import { openWatchers } from './watch.ts';

const CLIENTS = 50;
const OPEN_RATE = 200;
// Reads offered at five times the create rate: see README.md for why this rate.
const GET_RATE = 1000;
const OPEN_MS = 15_000;
const CLOSED_MS = 10_000;
const WATCHERS = 50;
const WATCH_WRITES = 300;
const WATCH_RATE = 50;
const RSS_PODS = 10_000;
const WARM_CREATES = 1000;
const WARM_GETS = 1000;

const NS = 'bench';
const PODS = `/api/v1/namespaces/${NS}/pods`;
const log = (msg: string): void => console.log(`api bench: ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const create = (name: string): Call => ({ method: 'POST', path: PODS, body: podJson(name) });

async function currentRevision(clients: Clients): Promise<string> {
  const r = await clients.send(0, { method: 'GET', path: `${PODS}?limit=1` });
  if (r.status !== 200) throw new Error(`list → ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

/** Phase 5: one writer at a steady rate, `WATCHERS` streams; returns the latencies in ms. */
async function watchLatency(server: BenchServer, clients: Clients): Promise<{ lat: number[]; early: number }> {
  const from = await currentRevision(clients);
  const watchers = await openWatchers(server.url, server.creds, WATCHERS, `${PODS}?watch=true&resourceVersion=${from}`);
  try {
    const answeredAt = new Map<string, number>();
    const t0 = performance.now();
    for (let n = 0; n < WATCH_WRITES; n++) {
      const wait = t0 + (n * 1000) / WATCH_RATE - performance.now();
      if (wait > 1) await sleep(wait);
      const call: Call = n % 2 === 0
        ? create(`wt-${n}`)
        : { method: 'PATCH', path: `${PODS}/wt-${n - 1}`, contentType: 'application/merge-patch+json', body: JSON.stringify({ metadata: { labels: { 'bench-step': String(n) } } }) };
      const r = await clients.send(0, call);
      const at = performance.now();
      if (r.status >= 300) throw new Error(`${call.method} ${call.path} → ${r.status} ${r.body.slice(0, 300)}`);
      answeredAt.set((JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion, at);
    }
    const rvs = [...answeredAt.keys()];
    await watchers.waitFor(rvs, 15_000);
    const lat: number[] = [];
    let early = 0;
    for (const seen of watchers.arrivals) {
      for (const rv of rvs) {
        const d = seen.get(rv)! - answeredAt.get(rv)!;
        if (d < 0) early++;
        lat.push(Math.max(0, d));
      }
    }
    return { lat, early };
  } finally {
    await watchers.close();
  }
}

async function run(server: BenchServer): Promise<Record<string, unknown>> {
  const clients = new Clients(server.url, server.creds, CLIENTS);
  try {
    const idleHeap = await server.settle(1000);
    const idle = server.memory();
    log(`server pid ${server.pid} (bundled, --disable-controllers) idle and empty: RSS ${round(idle.rssMb, 1)} MB`);

    const ns = await clients.send(0, { method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }) });
    if (ns.status !== 201) throw new Error(`create namespace → ${ns.status} ${ns.body}`);

    const version = await closedLoop(clients, 3000, () => ({ method: 'GET', path: '/version' }));
    requireClean('GET /version', version);
    log(`baseline GET /version, ${CLIENTS} clients closed loop: ${summary(version)}`);

    const names: string[] = [];
    const warm = await closedLoopCount(clients, WARM_CREATES, (n) => create(`warm-${n}`));
    requireClean('warm-up creates', warm);
    for (let n = 0; n < WARM_CREATES; n++) names.push(`warm-${n}`);
    log(`warm-up, ${WARM_CREATES} creates, ${CLIENTS} clients closed loop: ${summary(warm)}`);

    const open = await openLoop(clients, OPEN_RATE, OPEN_MS, (n) => create(`o-${n}`));
    requireClean('open-loop creates', open);
    for (let n = 0; n < open.ok; n++) names.push(`o-${n}`);
    const createP99 = quantile(open.latenciesMs, 0.99);
    log(`creates offered at ${OPEN_RATE}/s (open loop, latency from the scheduled time): ${summary(open)}; this process's send lag p99 ${round(quantile(open.sendLagMs, 0.99))} ms`);

    const missing = RSS_PODS - names.length;
    if (missing < 0) throw new Error(`${names.length} pods exist before the fill; the RSS phase needs at most ${RSS_PODS}`);
    const fill = await closedLoopCount(clients, missing, (n) => create(`f-${n}`));
    requireClean('fill creates', fill);
    for (let n = 0; n < missing; n++) names.push(`f-${n}`);
    log(`fill to ${RSS_PODS} pods, ${CLIENTS} clients closed loop: ${summary(fill)}`);
    const heap = await server.settle(3000);
    const mem = server.memory();
    log(`${names.length} pods, after full GC and 3 s idle: RSS ${round(mem.rssMb, 1)} MB (peak so far ${round(mem.hwmMb, 1)} MB; empty server ${round(idle.rssMb, 1)} MB); server heap after GC, MB: ${JSON.stringify(heap)} (empty: ${JSON.stringify(idleHeap)})`);

    const getPod = (): Call => ({ method: 'GET', path: `${PODS}/${names[Math.floor(Math.random() * names.length)]!}` });
    // Warm-up, as for the creates: the GET path's code is compiled here, not in the measured phase
    // (without it the first ~100 ms of the open loop queue ~1% of the requests behind the JIT).
    const warmGets = await closedLoopCount(clients, WARM_GETS, () => getPod());
    requireClean('warm-up gets', warmGets);
    log(`warm-up, ${WARM_GETS} GETs, ${CLIENTS} clients closed loop: ${summary(warmGets)}`);
    const gets = await openLoop(clients, GET_RATE, CLOSED_MS, getPod);
    requireClean('gets', gets);
    log(`GET one pod (random among ${names.length}) offered at ${GET_RATE}/s (open loop, latency from the scheduled time): ${summary(gets)}; this process's send lag p99 ${round(quantile(gets.sendLagMs, 0.99))} ms`);
    const getsClosed = await closedLoop(clients, CLOSED_MS, getPod);
    requireClean('closed-loop gets', getsClosed);
    log(`GET one pod, ${CLIENTS} clients closed loop (saturation: throughput, and latency that is mostly queueing): ${summary(getsClosed)}`);

    const first = await clients.send(0, { method: 'GET', path: `${PODS}?limit=500` });
    const page = JSON.parse(first.body) as { items: unknown[]; metadata: { continue?: string } };
    if (page.items.length !== 500 || !page.metadata.continue) throw new Error(`list ?limit=500 returned ${page.items.length} items, continue ${String(page.metadata.continue)}`);
    const lists = await closedLoop(clients, CLOSED_MS, () => ({ method: 'GET', path: `${PODS}?limit=500` }));
    requireClean('lists', lists);
    log(`LIST ?limit=500 (first page of ${names.length} pods, ${Math.round(first.body.length / 1024)} KB), ${CLIENTS} clients closed loop: ${summary(lists)}`);

    // Context for the two numbers above: one client alone (no queueing behind 49 others).
    const solo = new Clients(server.url, server.creds, 1);
    try {
      const soloGets = await closedLoop(solo, 2000, () => ({ method: 'GET', path: `${PODS}/${names[Math.floor(Math.random() * names.length)]!}` }));
      const soloLists = await closedLoop(solo, 2000, () => ({ method: 'GET', path: `${PODS}?limit=500` }));
      requireClean('single-client gets', soloGets);
      requireClean('single-client lists', soloLists);
      log(`one client alone: GET ${summary(soloGets)}`);
      log(`one client alone: LIST ?limit=500 ${summary(soloLists)}`);
    } finally {
      await solo.close();
    }

    const watch = await watchLatency(server, clients);
    const watchP99 = quantile(watch.lat, 0.99);
    log(`watch: ${WATCHERS} streams × ${WATCH_WRITES} writes at ${WATCH_RATE}/s: ${watch.lat.length} events, response→event p50 ${round(quantile(watch.lat, 0.5))} ms, p99 ${round(watchP99)} ms, max ${round(quantile(watch.lat, 1))} ms (${watch.early} arrived before the write's response, counted as 0)`);

    const closed = await closedLoop(clients, CLOSED_MS, (i, k) => create(`w-${i}-${k}`));
    requireClean('closed-loop creates', closed);
    const writesPerS = closed.ok / closed.seconds;
    log(`creates from ${names.length + WATCH_WRITES / 2} pods on, ${CLIENTS} clients closed loop: ${summary(closed)}`);
    const after = server.memory();
    log(`${names.length + WATCH_WRITES / 2 + closed.ok} pods at the end: RSS ${round(after.rssMb, 1)} MB, peak ${round(after.hwmMb, 1)} MB`);

    return {
      bench: 'api',
      create_p99_ms: round(createP99),
      get_p99_ms: round(quantile(gets.latenciesMs, 0.99)),
      list_p99_ms: round(quantile(lists.latenciesMs, 0.99)),
      watch_p99_ms: round(watchP99),
      writes_per_s: Math.round(writesPerS),
      rss_mb_10k_pods: round(mem.rssMb, 1),
    };
  } finally {
    await clients.close();
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  // The machine may be shared: the load average tells a reader whether the numbers are the server's.
  const load = (): string => loadavg().map((x) => round(x)).join(' ');
  log(`load average at start ${load()} (${availableParallelism()} CPUs)`);
  const server = await startBundledServer();
  // Ctrl-C or a kill of this process still stops the server (by its PID) and removes its data dir.
  const onSignal = (): void => {
    void server.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: Record<string, unknown>;
  try {
    result = await run(server);
  } catch (e) {
    console.error(`api bench: failed; server output tail:\n${server.output().slice(-3000)}`);
    throw e;
  } finally {
    await server.stop();
  }
  log(`done in ${round((performance.now() - t0) / 1000, 1)} s (server stopped, its data dir removed); load average ${load()}`);
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
