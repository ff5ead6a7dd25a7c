// Lease leader election (src/server/controllers/leader-election.ts) against the real API server:
// three candidates, one leader at a time; a graceful stop releases the Lease and another candidate
// takes it; a leader cut off from the API steps down before anyone else starts leading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { createKubeClient } from '../../../src/server/controllers/client/kube-client.ts';
import type { ClosableKubeClient } from '../../../src/server/controllers/client/kube-client.ts';
import { createLeaderElector } from '../../../src/server/controllers/leader-election.ts';
import type { LeaderElector } from '../../../src/server/controllers/leader-election.ts';
import { ApiError, resources } from '../../../src/server/controllers/types.ts';
import type { KubeClient, KubeObject } from '../../../src/server/controllers/types.ts';
import { readCredentials, startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';

const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 };

let server: RunningServer;
let client: ClosableKubeClient;
beforeAll(async () => {
  server = await startServer({ extraArgs: ['--disable-controllers'] });
  const creds = readCredentials(server.kubeconfig);
  client = createKubeClient({ url: server.url, caPem: creds.ca, certPem: creds.cert, keyPem: creds.key });
}, 120_000);
afterAll(async () => {
  await client?.close();
  await server?.stop();
});

/** The terms each candidate led: [start, end] in ms (end undefined while leading). */
type Terms = Map<string, { start: number; end?: number }[]>;

function candidate(name: string, lease: string, terms: Terms, c: KubeClient = client): LeaderElector {
  terms.set(name, []);
  return createLeaderElector({
    client: c,
    namespace: 'kube-system',
    name: lease,
    identity: name,
    timings,
    log: silentLogger(),
    lead: async () => {
      const term: { start: number; end?: number } = { start: Date.now() };
      terms.get(name)!.push(term);
      return async () => {
        term.end = Date.now();
      };
    },
  });
}

const leaders = (terms: Terms) => [...terms].filter(([, t]) => t.some((x) => x.end === undefined)).map(([n]) => n);

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** No two terms of different candidates overlap. */
function expectNoOverlap(terms: Terms): void {
  const all = [...terms].flatMap(([n, ts]) => ts.map((t) => ({ n, start: t.start, end: t.end ?? Infinity }))).sort((a, b) => a.start - b.start);
  for (let i = 1; i < all.length; i++) expect(all[i]!.start, `${all[i]!.n} started while ${all[i - 1]!.n} led`).toBeGreaterThanOrEqual(all[i - 1]!.end);
}

describe('Lease leader election', () => {
  it('elects one leader of three; a graceful stop releases the Lease to another', async () => {
    const terms: Terms = new Map();
    const electors = ['a', 'b', 'c'].map((n) => candidate(n, 'test-graceful', terms));
    const ac = new AbortController();
    for (const e of electors) await e.start(ac.signal);
    const first = await until('a leader', () => leaders(terms)[0]);
    await new Promise((r) => setTimeout(r, 1500)); // several retry periods: the others stay candidates
    expect(leaders(terms)).toEqual([first]);
    const lease = await client.get<KubeObject & { spec: { holderIdentity: string; leaseDurationSeconds: number } }>({ ...resources.leases, namespace: 'kube-system' }, 'test-graceful');
    expect(lease.spec).toMatchObject({ holderIdentity: first, leaseDurationSeconds: 2 });

    const index = ['a', 'b', 'c'].indexOf(first);
    await electors[index]!.stop();
    const second = await until('another leader', () => leaders(terms).find((n) => n !== first));
    expect(leaders(terms)).toEqual([second]);
    expectNoOverlap(terms);
    for (const e of electors) await e.stop();
    expect(leaders(terms)).toEqual([]);
    const released = await client.get<KubeObject & { spec: { holderIdentity?: string; leaseTransitions: number } }>({ ...resources.leases, namespace: 'kube-system' }, 'test-graceful');
    expect(released.spec.holderIdentity ?? '').toBe('');
    expect(released.spec.leaseTransitions).toBe(1);
  }, 60_000);

  it('a leader that cannot renew stops leading before another candidate starts', async () => {
    const terms: Terms = new Map();
    let cut = false;
    // The leader's own API client, whose requests fail once it is cut off (a partition from the API).
    const failing = new Proxy(client, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (cut ? Promise.reject(new ApiError(0, 'ConnectionFailed', 'cut off')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const ac = new AbortController();
    const lonely = candidate('cut-off', 'test-partition', terms, failing);
    await lonely.start(ac.signal);
    await until('the first candidate to lead', () => leaders(terms).includes('cut-off'));
    const other = candidate('other', 'test-partition', terms);
    await other.start(ac.signal);
    await new Promise((r) => setTimeout(r, 800));
    expect(leaders(terms)).toEqual(['cut-off']);
    cut = true;
    await until('the other candidate to lead', () => leaders(terms).includes('other'));
    expect(terms.get('cut-off')![0]!.end).toBeDefined();
    expectNoOverlap(terms);
    await lonely.stop();
    await other.stop();
  }, 60_000);
});
