// The console's fleet endpoint and its change stream (src/server/console/routes.ts, fleet-view.ts)
// over a real SQLite store and a real HTTP server; authentication and authorization are the
// injected decisions the server passes in (the real ones are tested through the server process in
// test/server/metrics/metrics-endpoint.test.ts and test/console/).
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/store/sqlite/store.ts';
import type { Store } from '../../../src/store/types.ts';
import { createConsoleRoutes } from '../../../src/server/console/routes.ts';
import type { ConsoleRoutes, FleetAnswer } from '../../../src/server/console/types.ts';

let store: Store;
let routes: ConsoleRoutes;
let server: Server;
let base: string;
/** What the injected authorizer allows: "<verb> <resource>" strings. */
let allowed: Set<string>;
let now = Date.parse('2026-12-07T08:00:00Z');

const node = (name: string, pool: string, ready: 'True' | 'Unknown') =>
  Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'apps.edgeos.io/pool': pool } }, status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: new Date(now).toISOString() }] } }));
const lease = (name: string, renew: number) =>
  Buffer.from(JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renew).toISOString().replace('Z', '000Z') } }));

beforeEach(async () => {
  store = await openSqliteStore({ file: ':memory:', progressIntervalMs: 100 });
  allowed = new Set(['list nodes', 'list leases', 'list pods']);
  routes = createConsoleRoutes({
    load: async () => new Map(),
    store: () => store,
    links: () => undefined,
    authenticate: async (req) => (req.headers.authorization === 'Bearer good' ? { kind: 'user', user: { name: 'alice', uid: '', groups: [] } } : { kind: 'anonymous' }),
    authorize: async (a) => ({ allowed: allowed.has(`${a.verb} ${a.resource}`), reason: '' }),
    streamMs: 1500,
    now: () => now,
  });
  ({ server, base } = await listen(routes));
});

/** The routes on a loopback HTTP server. */
async function listen(r: ConsoleRoutes): Promise<{ server: Server; base: string }> {
  const srv = createServer((req, res) => r.handle(req, res));
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));
  return { server: srv, base: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` };
}

afterEach(async () => {
  routes.close();
  await new Promise((r) => server.close(r));
  await store.close();
});

const get = (path: string, token = 'good') => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
const fleet = async (path: string) => (await (await get(path)).json()) as FleetAnswer;

describe('GET /console/api/fleet', () => {
  it('counts online and offline per pool, pages the rows offline first, and follows the store', async () => {
    await store.create('/registry/nodes/a-1', node('a-1', 'shop-a', 'True'));
    await store.create('/registry/nodes/a-2', node('a-2', 'shop-a', 'Unknown'));
    await store.create('/registry/nodes/b-1', node('b-1', 'shop-b', 'True'));
    await store.create('/registry/leases.coordination.k8s.io/kube-node-lease/a-1', lease('a-1', now));
    await store.create('/registry/leases.coordination.k8s.io/kube-node-lease/b-1', lease('b-1', now - 60_000)); // lapsed
    const r = await get('/console/api/fleet?limit=2');
    expect(r.status).toBe(200);
    const a = (await r.json()) as FleetAnswer;
    expect(a.summary).toEqual({ total: 3, online: 1, offline: 2, pools: [{ pool: 'shop-a', total: 2, online: 1 }, { pool: 'shop-b', total: 1, online: 0 }] });
    expect(a.matched).toBe(3);
    expect(a.rows.map((x) => [x.name, x.online])).toEqual([['a-2', false], ['b-1', false]]);
    expect((await fleet('/console/api/fleet?offset=2&limit=2')).rows.map((x) => x.name)).toEqual(['a-1']);
    expect((await fleet('/console/api/fleet?show=online')).rows.map((x) => x.name)).toEqual(['a-1']);
    expect((await fleet('/console/api/fleet?pool=shop-b')).summary.total).toBe(1);

    // A node deleted and one renewed: the store's watch brings both.
    await store.delete('/registry/nodes/a-2');
    await store.update('/registry/leases.coordination.k8s.io/kube-node-lease/b-1', lease('b-1', now));
    await expect.poll(async () => (await fleet('/console/api/fleet')).summary, { timeout: 5000 }).toMatchObject({ total: 2, online: 2, offline: 0 });

    // A node that moves to another pool takes its place there; a Lease that came before its Node
    // counts for it (a lapsed one: offline, first in the rows, with its renewal as last seen).
    await store.update('/registry/nodes/b-1', node('b-1', 'shop-0', 'True'));
    await store.create('/registry/leases.coordination.k8s.io/kube-node-lease/c-1', lease('c-1', now - 60_000));
    await store.create('/registry/nodes/c-1', node('c-1', 'shop-c', 'True'));
    await expect.poll(async () => (await fleet('/console/api/fleet')).summary, { timeout: 5000 }).toEqual({
      total: 3, online: 2, offline: 1, pools: [{ pool: 'shop-0', total: 1, online: 1 }, { pool: 'shop-a', total: 1, online: 1 }, { pool: 'shop-c', total: 1, online: 0 }],
    });
    const moved = await fleet('/console/api/fleet');
    expect(moved.rows.map((x) => [x.name, x.pool, x.online])).toEqual([['c-1', 'shop-c', false], ['b-1', 'shop-0', true], ['a-1', 'shop-a', true]]);
    expect(moved.rows[0]!.lastSeen).toBe(new Date(now - 60_000).toISOString().replace('Z', '000Z'));
  });

  it('answers only who may list nodes; without leases or pods it counts less, not more', async () => {
    await store.create('/registry/nodes/a-1', node('a-1', 'shop-a', 'True'));
    await store.create('/registry/leases.coordination.k8s.io/kube-node-lease/a-1', lease('a-1', now - 60_000));
    expect((await get('/console/api/fleet', 'bad')).status).toBe(401);
    expect((await get('/console/api/fleet?watch=1', 'bad')).status).toBe(401);
    expect((await get('/console/api/fleet?limit=abc')).status).toBe(400);
    allowed.delete('list pods');
    const noPods = await fleet('/console/api/fleet');
    expect(noPods.rows[0]!.pods).toBeNull();
    expect(noPods.summary.online).toBe(0); // the lapsed Lease
    allowed.delete('list leases');
    expect((await fleet('/console/api/fleet')).summary.online).toBe(1); // Ready alone
    allowed.delete('list nodes');
    const refused = await get('/console/api/fleet');
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain('a-1');
  });

  it('streams a line when the counts change (a Lease lapsing with no event too), and ends after its time without harm', async () => {
    await store.create('/registry/nodes/a-1', node('a-1', 'shop-a', 'True'));
    await store.create('/registry/leases.coordination.k8s.io/kube-node-lease/a-1', lease('a-1', now));
    const r = await get('/console/api/fleet?watch=1');
    expect(r.status).toBe(200);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const lines = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    })();
    await expect.poll(() => lines().length, { timeout: 3000 }).toBe(1); // where it starts
    now += 60_000; // the Lease lapses: no store event, the counts change
    await expect.poll(() => lines().length, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
    // The stream ends by itself (streamMs) while the ticker keeps running for nobody: no write after its end.
    await read;
    expect(lines().every((l) => l.type === 'CHANGED')).toBe(true);
    await store.create('/registry/nodes/a-2', node('a-2', 'shop-a', 'True'));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get('/console/api/fleet')).status).toBe(200);
  });
});

describe('the fleet view before any request', () => {
  it('is filled by prepare() (the server calls it once the API is up) and follows the store; an answer says where its time went', async () => {
    for (let i = 0; i < 30; i++) await store.create(`/registry/nodes/n-${i}`, node(`n-${i}`, 'shop-a', 'True'));
    const size = () => routes.cacheSizes().find(([k]) => k === 'console/fleet-nodes')?.[1];
    expect(size()).toBe(0);
    routes.prepare();
    for (let t = 0; size() !== 30 && t < 100; t++) await new Promise((r) => setTimeout(r, 50));
    expect(size()).toBe(30);
    await store.create('/registry/nodes/n-30', node('n-30', 'shop-a', 'True'));
    for (let t = 0; size() !== 31 && t < 100; t++) await new Promise((r) => setTimeout(r, 50));
    expect(size()).toBe(31);
    const r = await get('/console/api/fleet?limit=1');
    expect(r.status).toBe(200);
    expect(((await r.json()) as FleetAnswer).summary.total).toBe(31);
    expect(r.headers.get('server-timing')).toMatch(/^auth;dur=\d+\.\d, view;dur=\d+\.\d, query;dur=\d+\.\d$/);
  });
});

describe('the console files', () => {
  const files = new Map([
    ['index.html', Buffer.from('<!doctype html><title>edgeos console</title>')],
    ['app.js', Buffer.from(`console.log(${JSON.stringify('edgeos '.repeat(500))});`)],
    ['app.css', Buffer.from('body { margin: 0 }')],
  ] as const);
  let fileRoutes: ConsoleRoutes;
  let filesServer: Server;
  let filesBase: string;

  beforeEach(async () => {
    fileRoutes = createConsoleRoutes({ load: async () => files, store: () => store, links: () => undefined, authenticate: async () => ({ kind: 'anonymous' }), authorize: () => undefined });
    ({ server: filesServer, base: filesBase } = await listen(fileRoutes));
  });
  afterEach(async () => {
    fileRoutes.close();
    await new Promise((r) => filesServer.close(r));
  });

  /** A GET as a browser sends it, headers as given (fetch would add Accept-Encoding and unzip). */
  const raw = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      request(`${filesBase}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });

  it('serves them gzipped to a browser that accepts it, with an ETag; an unchanged file is a 304 with the same CSP', async () => {
    const plain = await raw('/console/app.js', {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(files.get('app.js')!)).toBe(true);
    const zipped = await raw('/console/app.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 10);
    expect(gunzipSync(zipped.body).equals(files.get('app.js')!)).toBe(true);
    const etag = String(zipped.headers.etag);
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(plain.headers.etag).toBe(etag);
    const again = await raw('/console/app.js', { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers['content-security-policy']).toBe(zipped.headers['content-security-policy']);
    expect(again.headers['cache-control']).toBe('no-cache');
    // Another file, or another version of this one, is sent whole.
    expect((await raw('/console/app.css', { 'if-none-match': etag })).status).toBe(200);
    expect((await raw('/console/app.js', { 'if-none-match': '"something-else"' })).status).toBe(200);
  });
});
