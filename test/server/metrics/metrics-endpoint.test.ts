/**
 * /metrics on the real `edgeos server` process, scraped over HTTPS like Prometheus would: with the
 * admin certificate, and with client certificates of other users issued by the cluster CA, which
 * RBAC allows or refuses (the bootstrap system:monitoring role, a stored ClusterRole with
 * nonResourceURLs ["/metrics"]); anonymous callers get 401. The values are asserted to move: a
 * request counts, a store write is timed, an agent joining and leaving changes the edge metrics.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverProcess, startTestAgent, waitFor } from '../../link/harness.ts';
import type { ServerProcess, TestAgent } from '../../link/harness.ts';

let server: ServerProcess;
let dir: string;
let ca: string;

interface Identity {
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: Record<string, string>;
}

/** A client certificate for CN=<user>, O=<groups…>, signed by the cluster CA (as an operator would with openssl). */
function clientCertificate(user: string, groups: string[]): Identity {
  const tls = join(server.dir, 'data', 'server', 'tls');
  const base = join(dir, user);
  const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subject, '-keyout', `${base}.key`, '-out', `${base}.csr`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', join(tls, 'ca.crt'), '-CAkey', join(tls, 'ca.key'), '-CAcreateserial', '-days', '1', '-out', `${base}.crt`], { stdio: 'ignore' });
  return { cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
}

function get(path: string, who: Identity): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((res, rej) => {
    const req = request(`${server.url}${path}`, { ca, ...who, timeout: 10_000 }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, contentType: String(r.headers['content-type']), body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', rej);
    req.end();
  });
}

let admin: Identity;

/** The value of the sample `name` whose labels include `labels`, or undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const r = await get('/metrics', admin);
  expect(r.status).toBe(200);
  return r.body;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeos-metrics-'));
  server = await serverProcess(['--disable-controllers']);
  const kc = readFileSync(server.kubeconfig, 'utf8');
  const field = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(kc)?.[1] ?? '', 'base64').toString('utf8');
  ca = field('certificate-authority-data');
  admin = { cert: field('client-certificate-data'), key: field('client-key-data') };
}, 90_000);

afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('/metrics', () => {
  it('serves the Prometheus text format with apiserver, store, edge, process and nodejs metrics', async () => {
    const r = await get('/metrics', admin);
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const family of [
      'apiserver_request_total',
      'apiserver_request_duration_seconds',
      'apiserver_current_inflight_requests',
      'edgeos_store_request_duration_seconds',
      'edgeos_store_db_total_size_in_bytes',
      'edgeos_store_current_revision',
      'edgeos_link_connected_agents',
      'edgeos_link_connects_total',
      'edgeos_link_disconnects_total',
      'edgeos_link_receive_bytes_total',
      'edgeos_link_transmit_bytes_total',
      'edgeos_node_last_seen_timestamp_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(r.body, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    }
    expect(sample(r.body, 'edgeos_store_db_total_size_in_bytes')).toBeGreaterThan(0);
    expect(sample(r.body, 'edgeos_store_current_revision')).toBeGreaterThan(0);
    expect(sample(r.body, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts and times each request by verb, resource and code', async () => {
    const list = { verb: 'LIST', group: '', version: 'v1', resource: 'configmaps', scope: 'namespace', code: '200' };
    const before = sample(await scrape(), 'apiserver_request_total', list) ?? 0;
    expect((await get('/api/v1/namespaces/default/configmaps', admin)).status).toBe(200);
    const created = await server.api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'counted' }, data: { a: 'b' } });
    expect(created.status).toBe(201);
    expect((await get('/api/v1/namespaces/default/configmaps/missing', admin)).status).toBe(404);
    const after = await scrape();
    expect(sample(after, 'apiserver_request_total', list)).toBe(before + 1);
    expect(sample(after, 'apiserver_request_total', { verb: 'POST', resource: 'configmaps', scope: 'resource', code: '201' })).toBe(1);
    expect(sample(after, 'apiserver_request_total', { verb: 'GET', resource: 'configmaps', scope: 'resource', code: '404' })).toBe(1);
    expect(sample(after, 'apiserver_request_duration_seconds_count', { verb: 'POST', resource: 'configmaps', scope: 'resource', component: 'apiserver' })).toBe(1);
    expect(sample(after, 'apiserver_request_duration_seconds_bucket', { verb: 'POST', resource: 'configmaps', le: '+Inf' })).toBe(1);
    // The create reached the store (one transaction), timed under the stored type.
    expect(sample(after, 'edgeos_store_request_duration_seconds_count', { operation: 'txn', type: 'configmaps' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'edgeos_store_request_duration_seconds_count', { operation: 'list', type: 'configmaps' })).toBeGreaterThanOrEqual(1);
  });

  it('labels only served resources: invented paths cannot grow the label set', async () => {
    expect((await get('/api/v1/namespaces/default/nonsense-a1b2', admin)).status).toBe(404);
    const text = await scrape();
    expect(text).not.toContain('nonsense-a1b2');
    expect(sample(text, 'apiserver_request_total', { verb: 'LIST', resource: '', scope: 'namespace', code: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('is gzipped over 128 KiB for a scraper that accepts it (Prometheus does), as apiserver compresses', async () => {
    // Enough series to pass apiserver's threshold: a LIST of each core resource, cluster-wide and in
    // a namespace, is a duration series each (~4.7 kB: 23 buckets).
    const core = JSON.parse((await get('/api/v1', admin)).body) as { resources: { name: string; namespaced: boolean; verbs: string[] }[] };
    const listed = core.resources.filter((r) => r.namespaced && !r.name.includes('/') && r.verbs.includes('list')).map((r) => r.name);
    expect(listed.length).toBeGreaterThanOrEqual(8);
    for (const plural of listed) {
      expect((await get(`/api/v1/${plural}`, admin)).status).toBe(200);
      expect((await get(`/api/v1/namespaces/default/${plural}`, admin)).status).toBe(200);
    }
    const plain = await get('/metrics', admin);
    expect(plain.body.length).toBeGreaterThan(128 * 1024);
    const zipped = await new Promise<{ encoding: string | undefined; vary: string | undefined; raw: Buffer }>((res, rej) => {
      const req = request(`${server.url}/metrics`, { ca, ...admin, headers: { 'Accept-Encoding': 'gzip' }, timeout: 10_000 }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (b: Buffer) => chunks.push(b));
        r.on('end', () => res({ encoding: r.headers['content-encoding'], vary: r.headers.vary as string | undefined, raw: Buffer.concat(chunks) }));
      });
      req.on('error', rej);
      req.end();
    });
    expect(zipped.encoding).toBe('gzip');
    expect(zipped.vary).toBe('Accept-Encoding');
    expect(zipped.raw.length).toBeLessThan(plain.body.length / 5);
    const text = gunzipSync(zipped.raw).toString('utf8');
    expect(text).toMatch(/^# TYPE apiserver_request_duration_seconds histogram$/m);
    expect(sample(text, 'apiserver_request_total', { verb: 'LIST', resource: listed.at(-1)!, scope: 'cluster', code: '200' })).toBeGreaterThanOrEqual(1);
  });

  it('refuses anonymous callers and identities RBAC does not allow "get /metrics"', async () => {
    const anonymous = await get('/metrics', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).not.toContain('apiserver_request_total');

    const bob = clientCertificate('bob', ['developers']);
    const refused = await get('/metrics', bob);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: 'forbidden: User "bob" cannot get path "/metrics"' });
    const counted = await scrape();
    expect(sample(counted, 'apiserver_request_total', { verb: 'GET', resource: '', scope: '', code: '403' })).toBeGreaterThanOrEqual(1);
    expect(sample(counted, 'apiserver_request_total', { verb: 'GET', resource: '', scope: '', code: '401' })).toBeGreaterThanOrEqual(1);
  });

  it('lets the group system:monitoring scrape, as upstream bootstrap RBAC does', async () => {
    const prometheus = clientCertificate('prometheus', ['system:monitoring']);
    const r = await get('/metrics', prometheus);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^# TYPE apiserver_request_total counter$/m);
    // …and nothing else: the role is for scraping, not reading objects.
    expect((await get('/api/v1/namespaces/default/configmaps', prometheus)).status).toBe(403);
  });

  it('honours a stored ClusterRole with nonResourceURLs ["/metrics"]', async () => {
    const scraper = clientCertificate('scraper', []);
    expect((await get('/metrics', scraper)).status).toBe(403);
    const role = await server.api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'metrics-reader' },
      rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }],
    });
    expect(role.status).toBe(201);
    const binding = await server.api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'scraper-metrics' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'metrics-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'scraper' }],
    });
    expect(binding.status).toBe(201);
    await waitFor('the binding to take effect', async () => ((await get('/metrics', scraper)).status === 200 ? true : undefined), 10_000);
  });

  it('lets a ServiceAccount scrape with its bearer token once RBAC binds it, as Prometheus in a cluster would', async () => {
    expect((await server.api('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'prometheus' } })).status).toBe(201);
    const requested = await server.api('POST', '/api/v1/namespaces/default/serviceaccounts/prometheus/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    expect(requested.status).toBe(201);
    const bearer = { headers: { authorization: `Bearer ${String(requested.body.status.token)}` } };
    const refused = await get('/metrics', bearer);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toBe('forbidden: User "system:serviceaccount:default:prometheus" cannot get path "/metrics"');
    const binding = await server.api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'prometheus-sa-monitoring' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:monitoring' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'default' }],
    });
    expect(binding.status).toBe(201);
    const allowed = await waitFor('the binding to take effect', async () => {
      const r = await get('/metrics', bearer);
      return r.status === 200 ? r : undefined;
    }, 10_000);
    expect(allowed.body).toMatch(/^# TYPE edgeos_link_connected_agents gauge$/m);
  });

  it("counts the console's fleet view in edgeos_cache_objects; the view answers only who may list nodes", async () => {
    expect(await scrape()).toMatch(/^# TYPE edgeos_cache_objects gauge$/m);
    for (let i = 0; i < 3; i++) {
      const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: `cache-${i}`, labels: { 'apps.edgeos.io/pool': 'p' } } };
      expect((await server.api('POST', '/api/v1/nodes', node)).status).toBe(201);
    }
    // Without a credential, and with one RBAC does not let list nodes: no counts.
    expect((await get('/console/api/fleet', {})).status).toBe(401);
    const carol = await get('/console/api/fleet', clientCertificate('carol', ['developers']));
    expect(carol.status).toBe(403);
    expect(carol.body).not.toContain('cache-0');
    const nodes = (await server.api('GET', '/api/v1/nodes')).body.items.length as number;
    const answer = await get('/console/api/fleet?limit=2', admin);
    expect(answer.status).toBe(200);
    const fleet = JSON.parse(answer.body) as { summary: { total: number; pools: { pool: string; total: number }[] }; matched: number; rows: { name: string }[] };
    expect(fleet.summary.total).toBe(nodes);
    expect(fleet.summary.pools).toContainEqual({ pool: 'p', total: 3, online: 0 });
    expect(fleet.rows).toHaveLength(2);
    expect((await get('/console/api/fleet?limit=5000', admin)).status).toBe(400);
    // The view now holds every node; a node created afterwards reaches it through the store's watch.
    expect((await server.api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cache-3' } })).status).toBe(201);
    await waitFor('the view and its cache size to follow', async () => {
      const t = await scrape();
      return sample(t, 'edgeos_cache_objects', { cache: 'console/fleet-nodes' }) === nodes + 1 ? t : undefined;
    }, 10_000);
  });

  it('follows agents: connected agents, connects and disconnects, bytes and last-seen per node', async () => {
    const before = await scrape();
    const connects = sample(before, 'edgeos_link_connects_total') ?? 0;
    const disconnects = sample(before, 'edgeos_link_disconnects_total') ?? 0;
    expect(sample(before, 'edgeos_link_connected_agents')).toBe(0);
    expect(sample(before, 'edgeos_node_last_seen_timestamp_seconds', { node: 'metrics-edge-1' })).toBeUndefined();

    const joinedAt = Date.now() / 1000;
    let agent: TestAgent | undefined = await startTestAgent(server.token(), 'metrics-edge-1', dir);
    try {
      const online = await waitFor('the agent in the metrics', async () => {
        const t = await scrape();
        return sample(t, 'edgeos_link_connected_agents') === 1 && (sample(t, 'edgeos_link_receive_bytes_total', { node: 'metrics-edge-1' }) ?? 0) > 0 ? t : undefined;
      }, 20_000);
      expect(sample(online, 'edgeos_link_connects_total')).toBe(connects + 1);
      // The feed's snapshot went out to the agent; its hello and Node status came in.
      expect(sample(online, 'edgeos_link_transmit_bytes_total', { node: 'metrics-edge-1' })).toBeGreaterThan(0);
      const seen = sample(online, 'edgeos_node_last_seen_timestamp_seconds', { node: 'metrics-edge-1' }) ?? 0;
      expect(seen).toBeGreaterThanOrEqual(Math.floor(joinedAt));
      expect(seen).toBeLessThanOrEqual(Date.now() / 1000 + 1);

      await agent.stop();
      agent = undefined;
      const offline = await waitFor('the agent gone from the metrics', async () => {
        const t = await scrape();
        return sample(t, 'edgeos_link_connected_agents') === 0 ? t : undefined;
      }, 20_000);
      expect(sample(offline, 'edgeos_link_disconnects_total')).toBe(disconnects + 1);
      // An offline node keeps its last-seen time: that is how long it has been away.
      expect(sample(offline, 'edgeos_node_last_seen_timestamp_seconds', { node: 'metrics-edge-1' })).toBeGreaterThanOrEqual(seen);
    } finally {
      await agent?.stop();
    }
  }, 60_000);
});
