// `npm run bench -- console [--nodes N]`: the web console with a fleet of simulated nodes, in
// headless Chromium (test/console/browser.ts), against a real `edgeos server` process.
// The nodes are Node objects with a Ready condition and a Lease in kube-node-lease, created through
// the API by this process (no agent behind them: what the console reads is the same objects a
// linked agent keeps; --node-monitor-grace-period 1h keeps them Ready without renewals).
//  - first_paint_ms: a reload of the fleet page (signed in) until the first node row is drawn
//    (the first page of the list: limit 500);
//  - fleet_page_ms: the same reload until every node is listed (all pages, `continue`) and drawn;
//  - metrics_scrape_ms / metrics_bytes: one GET /metrics (admin certificate) with those nodes.
// Baseline, same run: the same two times with an empty fleet, printed before the result.
// Last line: {"bench":"console","nodes":…,"first_paint_ms":…,"fleet_page_ms":…,"metrics_scrape_ms":…,"metrics_bytes":…}
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Page } from 'puppeteer-core';
import { serverProcess } from '../../test/link/harness.ts';
import type { ServerProcess } from '../../test/link/harness.ts';
import { inPage, launchChromium, untilInPage } from '../../test/console/browser.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '10000' } } });
const NODES = Number(values.nodes);
if (!Number.isInteger(NODES) || NODES < 1) throw new Error(`--nodes: ${values.nodes} is not a positive integer`);
const CONCURRENCY = 16;
const POOLS = 100;

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

async function parallel<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

function adminCredentials(server: ServerProcess): { ca: string; cert: string; key: string } {
  const kc = readFileSync(server.kubeconfig, 'utf8');
  const field = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(kc)?.[1] ?? '', 'base64').toString('utf8');
  return { ca: field('certificate-authority-data'), cert: field('client-certificate-data'), key: field('client-key-data') };
}

// One TLS connection per worker, kept alive: 30,000 creates would otherwise each pay a handshake.
let agent: Agent | undefined;

function must(server: ServerProcess, method: string, path: string, body: unknown, want: number): Promise<Record<string, unknown>> {
  agent ??= new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ...adminCredentials(server) });
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method, agent,
      headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', 'content-length': Buffer.byteLength(text) },
    }, (res) => {
      let data = '';
      res.on('data', (b: Buffer) => (data += b.toString()));
      res.on('end', () => {
        if (res.statusCode !== want) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${data.slice(0, 300)}`));
        else resolve(JSON.parse(data) as Record<string, unknown>);
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function addNode(server: ServerProcess, i: number): Promise<void> {
  const name = `sim-${String(i).padStart(5, '0')}`;
  const pool = `shop-${String(i % POOLS).padStart(3, '0')}`;
  const now = new Date();
  await must(server, 'POST', '/api/v1/nodes', {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': i % 3 ? 'arm64' : 'amd64', 'apps.edgeos.io/pool': pool } },
  }, 201);
  await must(server, 'PATCH', `/api/v1/nodes/${name}/status`, {
    status: {
      conditions: [{ type: 'Ready', status: i % 50 ? 'True' : 'Unknown', reason: i % 50 ? 'KubeletReady' : 'NodeStatusUnknown', lastHeartbeatTime: now.toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z') }],
      nodeInfo: { kubeletVersion: 'v1.32.0-edgeos', architecture: i % 3 ? 'arm64' : 'amd64', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12', containerRuntimeVersion: 'containerd://1.6', kernelVersion: '6.1.0', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '' },
      addresses: [{ type: 'InternalIP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, { type: 'Hostname', address: name }],
    },
  }, 200);
  await must(server, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 3600, renewTime: microTime(now) },
  }, 201);
}

async function adminToken(server: ServerProcess): Promise<string> {
  await must(server, 'POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bench-console' } }, 201);
  await must(server, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bench-console' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'bench-console', namespace: 'default' }],
  }, 201);
  const r = await must(server, 'POST', '/api/v1/namespaces/default/serviceaccounts/bench-console/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } }, 201);
  return (r.status as { token: string }).token;
}

/** A reload of the signed-in fleet page: ms to the first row, and to every node drawn. */
async function loadFleet(page: Page, expect: number): Promise<{ firstPaint: number; full: number }> {
  const t0 = performance.now();
  await page.reload({ waitUntil: 'domcontentloaded' });
  let firstPaint = 0;
  if (expect > 0) {
    await untilInPage(page, `document.querySelector('a.row[data-node]') !== null`, 120_000);
    firstPaint = performance.now() - t0;
  }
  await untilInPage(page, `document.getElementById('main').dataset.ready === 'true' && document.getElementById('fleet-summary')?.textContent.startsWith('${expect} nodes')`, 300_000);
  const full = performance.now() - t0;
  if (expect === 0) firstPaint = full;
  return { firstPaint: Math.round(firstPaint), full: Math.round(full) };
}

function scrape(server: ServerProcess): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // A new connection, as a Prometheus scrape after its interval would usually be.
    const req = request(`${server.url}/metrics`, adminCredentials(server), (res) => {
      let bytes = 0;
      res.on('data', (b: Buffer) => (bytes += b.length));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: Math.round(performance.now() - t0), bytes }) : reject(new Error(`/metrics: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const server = await serverProcess(['--node-monitor-grace-period', '1h', '--disable-agent']);
const browser = await launchChromium(server.port);
try {
  const token = await adminToken(server);
  const page = await browser.browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${server.url}/console/#/fleet`, { waitUntil: 'domcontentloaded' });
  await inPage(page, `sessionStorage.setItem('edgeos.console.token', ${JSON.stringify(token)})`);
  const empty = await loadFleet(page, 0);
  const emptyScrape = await scrape(server);
  console.log(JSON.stringify({ baseline: 'empty fleet', first_paint_ms: empty.firstPaint, fleet_page_ms: empty.full, metrics_scrape_ms: emptyScrape.ms, metrics_bytes: emptyScrape.bytes }));

  const t0 = performance.now();
  await parallel(Array.from({ length: NODES }, (_, i) => i), CONCURRENCY, (i) => addNode(server, i));
  console.log(`created ${NODES} nodes and leases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  await loadFleet(page, NODES); // warm: the server's first list of 10,000 reads them from the store
  const runs = [await loadFleet(page, NODES), await loadFleet(page, NODES), await loadFleet(page, NODES)];
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const scrapes = [await scrape(server), await scrape(server), await scrape(server)];
  console.log(JSON.stringify({ runs, scrapes }));
  console.log(JSON.stringify({
    bench: 'console',
    nodes: NODES,
    first_paint_ms: median(runs.map((r) => r.firstPaint)),
    fleet_page_ms: median(runs.map((r) => r.full)),
    metrics_scrape_ms: median(scrapes.map((s) => s.ms)),
    metrics_bytes: scrapes.at(-1)!.bytes,
  }));
} finally {
  agent?.destroy();
  await browser.close();
  await server.dispose();
}
