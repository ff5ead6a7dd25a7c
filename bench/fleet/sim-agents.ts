// The fleet simulator: N hollow nodes (hollow-node.ts: the real agent over the in-memory runtime)
// in this one process, each joined with its own key and certificate and holding its own TLS link.
//
//   node bench/fleet/sim-agents.ts --token <join token> --count 1000 --data-dir /tmp/fleet \
//        [--prefix hollow-] [--first 0] [--concurrency 32] [--stats-every 10]
//
// Data dirs are <data-dir>/<name>; a second run over the same dir reuses the identities (no
// join). Put --data-dir on a tmpfs (/dev/shm) for large fleets: every agent's cache and identity
// writes fsync synchronously (right on a device, one agent per process), and N agents in one
// process on a disk spend their shared event loop waiting for the disk — a 200-node join on the
// loaded build machine's disk stalled until a join's answer timed out (bench/fleet/README.md). Progress goes to stdout as JSON lines: {"sim":"joined","nodes":…} once every node started,
// {"sim":"ready","nodes":…,"seconds":…} once every node finished its first sync, then
// {"sim":"stats","relists":…,"resumes":…,"connects":…,"disconnects":…,"pings":…,"connected":…,
// "loopDelayMaxMs":…} every --stats-every seconds (the longest event-loop stall since the last line:
// what every node of this process waited); before "ready", {"sim":"progress","started":…,"synced":…,
// "failures":…,"loopDelayMaxMs":…} as often.
// SIGTERM stops every agent (their pods' statuses stay as reported) and exits. With --prof-dir,
// SIGUSR2 starts a V8 CPU profile and the next SIGUSR2 writes it there (sim-cpu.ts: a profile of
// one idle window, without the start-up).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger, silentLogger } from '../../src/common/log.ts';
import { startHollowNode, startHollowNodes } from './hollow-node.ts';

const { values } = parseArgs({
  options: {
    token: { type: 'string' },
    count: { type: 'string', default: '10' },
    first: { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'hollow-' },
    'data-dir': { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    'stats-every': { type: 'string', default: '10' },
    'prof-dir': { type: 'string' },
  },
});
const fail = (msg: string): never => {
  console.error(`sim-agents: ${msg}`);
  process.exit(2);
};
const int = (flag: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  return Number.isInteger(n) && n >= min ? n : fail(`--${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
};
const token = values.token ?? process.env.EDGEOS_TOKEN ?? fail('--token (or EDGEOS_TOKEN) is required: the server writes it to <data-dir>/server/token');
const dataDir = values['data-dir'] ?? fail('--data-dir is required (one directory per hollow node goes under it)');
const count = int('count', values.count, 1);
const first = int('first', values.first, 0);
const concurrency = int('concurrency', values.concurrency, 1);
mkdirSync(dataDir, { recursive: true });

const log = process.env.EDGEOS_LOG_LEVEL ? createLogger({ level: process.env.EDGEOS_LOG_LEVEL }) : silentLogger();
const names = Array.from({ length: count }, (_, i) => `${values.prefix}${first + i}`);
const t0 = performance.now();
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
let failures = 0;
// The bench reading our stdout may be gone: that is no reason to crash the nodes.
process.stdout.on('error', () => undefined);
const emit = (o: object) => console.log(JSON.stringify(o));
// While the nodes join: how many started and finished their first sync, every --stats-every seconds.
let started = 0;
let synced = 0;
const joining = setInterval(() => {
  emit({ sim: 'progress', started, synced, failures, loopDelayMaxMs: Math.round(loopDelay.max / 1e6) });
  loopDelay.reset();
}, int('stats-every', values['stats-every'], 1) * 1000);
const nodes = await startHollowNodes(names, concurrency, async (name) => {
  const n = await startHollowNode({ token, name, dataDir: join(dataDir, name), log, onFailure: () => failures++ });
  started++;
  void n.ready.then(() => synced++, () => undefined);
  return n;
});
emit({ sim: 'joined', nodes: nodes.length, seconds: Math.round((performance.now() - t0) / 100) / 10, loopDelayMaxMs: Math.round(loopDelay.max / 1e6) });
await Promise.all(nodes.map((n) => n.ready));
emit({ sim: 'ready', nodes: nodes.length, seconds: Math.round((performance.now() - t0) / 100) / 10 });
clearInterval(joining);

const stats = setInterval(() => {
  const sum = { relists: 0, resumes: 0, connects: 0, disconnects: 0, pings: 0, connected: 0, failures, loopDelayMaxMs: Math.round(loopDelay.max / 1e6) };
  loopDelay.reset();
  for (const n of nodes) {
    const s = n.agent.link?.stats;
    if (!s) continue;
    sum.relists += s.relists;
    sum.resumes += s.resumes;
    sum.connects += s.connects;
    sum.disconnects += s.disconnects;
    sum.pings += s.pings;
    if (n.agent.link?.connected) sum.connected++;
  }
  emit({ sim: 'stats', ...sum });
}, int('stats-every', values['stats-every'], 1) * 1000);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(stats);
  await Promise.all(nodes.map((n) => n.stop()));
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
const profDir = values['prof-dir'];
if (profDir) {
  mkdirSync(profDir, { recursive: true });
  let session: Session | undefined;
  process.on('SIGUSR2', () => void (async () => {
    if (!session) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return;
    }
    const s = session;
    session = undefined;
    const { profile } = await s.post('Profiler.stop');
    writeFileSync(join(profDir, `sim-${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    s.disconnect();
  })());
}
process.on('SIGINT', () => void stop());
