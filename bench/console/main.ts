// `npm run bench -- console [--nodes N] [--agents A]`: the web console with a fleet of simulated
// nodes, in headless Chromium (test/console/browser.ts), against a real `edgeos server` process.
// Most nodes are Node objects with a Ready condition and a Lease in kube-node-lease, created through
// the API by this process (no agent behind them: what the console reads is the same objects a
// linked agent keeps; --node-monitor-grace-period 1h keeps them Ready without renewals). A of them
// (default 50) are real agents instead: bench/fleet/sim-agents.ts's hollow nodes, each joined and
// holding its own TLS link, so the links' per-node series, bytes and Lease renewals are real too.
//  - first_paint_ms: a reload of the fleet page (signed in) until the first node row is drawn;
//  - fleet_page_ms: the same reload until the page is rendered: the fleet's counts ("10000 nodes:
//    … online, … offline"), its pools and the first rows (the server's fleet view answers them in
//    one request; further rows are fetched as the list scrolls — timed too, printed before the result);
//  - metrics_scrape_ms / metrics_bytes: one GET /metrics (admin certificate, a new connection) with those nodes.
// Baseline, same run: the same two times with an empty fleet, printed before the result.
// Last line: {"bench":"console","nodes":…,"first_paint_ms":…,"fleet_page_ms":…,"metrics_scrape_ms":…,"metrics_bytes":…}
import { Agent, request } from 'node:https';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg as osLoadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Page } from 'puppeteer-core';
import { REPO, serverProcess } from '../../test/link/harness.ts';
import type { ServerProcess } from '../../test/link/harness.ts';
import { inPage, launchChromium, untilInPage } from '../../test/console/browser.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '10000' }, agents: { type: 'string', default: '50' } } });
const NODES = Number(values.nodes);
if (!Number.isInteger(NODES) || NODES < 1) throw new Error(`--nodes: ${values.nodes} is not a positive integer`);
const AGENTS = Number(values.agents);
if (!Number.isInteger(AGENTS) || AGENTS < 0 || AGENTS > NODES) throw new Error(`--agents: ${values.agents} must be an integer from 0 to --nodes`);
const CONCURRENCY = 16;
const loadavg = () => osLoadavg().map((x) => Number(x.toFixed(1)));
const POOLS = 100;
const AGENTS_TIMEOUT_MS = 10 * 60_000;

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

function once(server: ServerProcess, method: string, path: string, text: string): Promise<{ status: number; data: string }> {
  agent ??= new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ...adminCredentials(server) });
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method, agent,
      headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', 'content-length': Buffer.byteLength(text) },
    }, (res) => {
      let data = '';
      res.on('data', (b: Buffer) => (data += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, data }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

/**
 * One request that must answer `want`. A kept-alive connection the server closed just as it was
 * reused fails with ECONNRESET ("socket hang up"): tried again on a new one, where a create that
 * did land before the reset answers 409 (AlreadyExists), which counts as done.
 */
async function must(server: ServerProcess, method: string, path: string, body: unknown, want: number): Promise<Record<string, unknown>> {
  const text = JSON.stringify(body);
  for (let attempt = 1; ; attempt++) {
    let r: { status: number; data: string };
    try {
      r = await once(server, method, path, text);
    } catch (err) {
      if (attempt < 5 && (err as NodeJS.ErrnoException).code === 'ECONNRESET') continue;
      throw err;
    }
    if (r.status === want || (attempt > 1 && method === 'POST' && r.status === 409)) return r.status === 409 ? {} : (JSON.parse(r.data) as Record<string, unknown>);
    throw new Error(`${method} ${path}: HTTP ${r.status} ${r.data.slice(0, 300)}`);
  }
}

async function addNode(server: ServerProcess, i: number): Promise<void> {
  const name = `sim-${String(i).padStart(5, '0')}`;
  const pool = `shop-${String(i % POOLS).padStart(3, '0')}`;
  const now = new Date();
  // Created with its status, as a kubelet registers its Node (the API keeps a Node's status on create).
  await must(server, 'POST', '/api/v1/nodes', {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': i % 3 ? 'arm64' : 'amd64', 'apps.edgeos.io/pool': pool } },
    status: {
      conditions: [{ type: 'Ready', status: i % 50 ? 'True' : 'Unknown', reason: i % 50 ? 'KubeletReady' : 'NodeStatusUnknown', lastHeartbeatTime: now.toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z') }],
      nodeInfo: { kubeletVersion: 'v1.32.0-edgeos', architecture: i % 3 ? 'arm64' : 'amd64', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12', containerRuntimeVersion: 'containerd://1.6', kernelVersion: '6.1.0', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '' },
      addresses: [{ type: 'InternalIP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, { type: 'Hostname', address: name }],
    },
  }, 201);
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

/**
 * The hollow agents (bench/fleet/sim-agents.ts, used as is), resolved once every one is ready;
 * their stats lines are printed as they come. Refused after AGENTS_TIMEOUT_MS: on a loaded machine
 * their joins can stall (bench/fleet/README.md), and the API nodes alone (--agents 0) still measure.
 */
function startAgents(token: string, dataDir: string, count: number): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(process.execPath, [join(REPO, 'bench/fleet/sim-agents.ts'), '--token', token, '--data-dir', dataDir, '--count', String(count), '--prefix', 'agent-', '--stats-every', '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${count} hollow agents were not all ready after ${AGENTS_TIMEOUT_MS / 60_000} min (run with --agents 0 for the API nodes alone)`)), AGENTS_TIMEOUT_MS);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sim-agents exited (${code ?? signal}) before its nodes were ready`));
    });
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      console.log(line);
      if (line.includes('"sim":"ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { proc, ready };
}

/** From the top of the loaded fleet page to its last row drawn (rows fetched as the list scrolls). */
async function scrollToEnd(page: Page, expect: number): Promise<number> {
  const t0 = performance.now();
  await page.evaluate('scrollTo(0, document.body.scrollHeight)');
  await untilInPage(page, `document.querySelector('a.row[data-node][data-index="${expect - 1}"]') !== null`, 120_000);
  const ms = Math.round(performance.now() - t0);
  await page.evaluate('scrollTo(0, 0)');
  return ms;
}

/**
 * Runs in the page before its own scripts (CDP's addScriptToEvaluateOnNewDocument, which the CSP
 * does not govern): signs in (the token in sessionStorage, where the sign-in page puts it) and
 * notes, in the page's own clock (ms since the navigation started), when the first node row and
 * the rendered fleet page ("<expect> nodes: …", pools, first rows) are in the document, and the
 * animation frame that draws each (rAF runs just before that frame is painted).
 */
const MARKS_SCRIPT = (token: string, expect: number) => `(() => {
  sessionStorage.setItem('edgeos.console.token', ${JSON.stringify(token)});
  const marks = {};
  globalThis.__benchMarks = marks;
  const frame = (k) => requestAnimationFrame(() => { marks[k] = performance.now(); });
  const check = () => {
    if (marks.rowInDom === undefined && document.querySelector('a.row[data-node]')) { marks.rowInDom = performance.now(); frame('firstRow'); }
    const main = document.getElementById('main');
    const summary = document.getElementById('fleet-summary');
    if (marks.pageInDom === undefined && main && main.dataset.ready === 'true' && summary && summary.textContent.startsWith('${expect} nodes')) { marks.pageInDom = performance.now(); frame('page'); }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})()`;

interface Load {
  /** In the page's clock: navigation start → the frame drawing the first row / the rendered page. */
  readonly firstPaint: number;
  readonly full: number;
  /** Where the time went (page clock, ms): the HTML's response end, app.js's, the first fleet answer's start and end. */
  readonly html: number;
  readonly appJs: number;
  readonly fleetApiStart: number;
  readonly fleetApi: number;
  /** app.js came whole (cold) or as a 304 (revalidated). */
  readonly cache: string;
  /** The fleet answer's Server-Timing: ms in authentication and authorization, the view, the query. */
  readonly server: string;
}

async function marks(page: Page, expect: number): Promise<Load> {
  await untilInPage(page, `globalThis.__benchMarks?.page !== undefined${expect > 0 ? ' && globalThis.__benchMarks.firstRow !== undefined' : ''}`, 300_000);
  const m = await inPage<{ page: number; firstRow?: number; html: number; appJs: number; jsBytes: number; fleetApiStart: number; fleetApi: number; server: string }>(page, `(() => {
    const r = performance.getEntriesByType('resource');
    const js = r.find((e) => e.name.endsWith('/console/app.js'));
    const api = r.find((e) => e.name.includes('/console/api/fleet?') && !e.name.includes('watch='));
    const nav = performance.getEntriesByType('navigation')[0];
    return { ...globalThis.__benchMarks, html: nav.responseEnd, appJs: js ? js.responseEnd : -1, jsBytes: js ? js.transferSize : -1, fleetApiStart: api ? api.startTime : -1, fleetApi: api ? api.responseEnd : -1, server: api ? api.serverTiming.map((t) => t.name + ' ' + Math.round(t.duration)).join(', ') : '' };
  })()`);
  const full = Math.round(m.page);
  return {
    firstPaint: expect > 0 ? Math.round(m.firstRow!) : full, full,
    html: Math.round(m.html), appJs: Math.round(m.appJs), fleetApiStart: Math.round(m.fleetApiStart), fleetApi: Math.round(m.fleetApi),
    cache: m.jsBytes > 1000 ? 'cold' : 'revalidated',
    server: m.server,
  };
}

/**
 * A first visit: a new browser context (no HTTP cache, no storage: a person opening the console
 * for the first time in a running browser), signed in, the fleet page loaded from nothing.
 */
async function coldLoad(token: string, expect: number): Promise<Load> {
  const ctx = await browser.browser.createBrowserContext();
  try {
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.evaluateOnNewDocument(MARKS_SCRIPT(token, expect));
    await page.goto(`${server.url}/console/#/fleet`, { waitUntil: 'domcontentloaded' });
    return await marks(page, expect);
  } finally {
    await ctx.close();
  }
}

/** A reload of a signed-in fleet page (its files revalidated: 304s). */
async function reload(page: Page, expect: number): Promise<Load> {
  await page.reload({ waitUntil: 'domcontentloaded' });
  return marks(page, expect);
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

/**
 * Waits for the fleet to settle: the node-ipam controller has given every created node its pod
 * CIDR (one PATCH of the Node each, counted in apiserver_request_total). Registering 10,000 nodes
 * at once leaves the server minutes of that work on a loaded machine; the page is measured on the
 * fleet an operator looks at, not during the registration storm. Returns the seconds waited.
 */
async function settle(server: ServerProcess, patches: number): Promise<number> {
  const t0 = performance.now();
  const done = async () => {
    const text = (await once(server, 'GET', '/metrics', '')).data;
    let n = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('apiserver_request_total{') && line.includes('verb="PATCH"') && line.includes('resource="nodes",subresource=""') && line.includes('code="200"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return n >= patches;
  };
  while (!(await done())) {
    if (performance.now() - t0 > 10 * 60_000) {
      console.log('warning: the pod CIDRs were still being allocated after 10 min; measuring anyway');
      break;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  return Math.round((performance.now() - t0) / 100) / 10;
}

// A cluster CIDR with a block for each of 10,000 nodes (the default /16 has 256 /24s: the rest
// would each log "no pod CIDR left" and retry, which is not what a sized cluster does).
const server = await serverProcess(['--node-monitor-grace-period', '1h', '--disable-agent', '--cluster-cidr', '10.128.0.0/9']);
const browser = await launchChromium(server.port);
const agentsDir = mkdtempSync(join(tmpdir(), 'edgeos-bench-console-agents-'));
let agents: ChildProcess | undefined;
try {
  const token = await adminToken(server);
  const empty = await coldLoad(token, 0);
  const emptyScrape = await scrape(server);
  console.log(JSON.stringify({ baseline: 'empty fleet', first_paint_ms: empty.firstPaint, fleet_page_ms: empty.full, metrics_scrape_ms: emptyScrape.ms, metrics_bytes: emptyScrape.bytes, load: loadavg() }));

  const t0 = performance.now();
  await parallel(Array.from({ length: NODES - AGENTS }, (_, i) => i), CONCURRENCY, (i) => addNode(server, i));
  console.log(`created ${NODES - AGENTS} nodes and leases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (AGENTS > 0) {
    const t1 = performance.now();
    const a = startAgents(server.token(), agentsDir, AGENTS);
    agents = a.proc;
    await a.ready;
    console.log(`${AGENTS} hollow agents joined and ready in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }

  console.log(`every node had its pod CIDR ${await settle(server, NODES - AGENTS)} s later`);

  // No warm-up: the first of these is the first time any browser asks for the fleet of NODES.
  const runs: Load[] = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await coldLoad(token, NODES));
    console.log(JSON.stringify({ first_visit: i + 1, ...runs.at(-1), load: loadavg() }));
  }
  const page = await browser.browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.evaluateOnNewDocument(MARKS_SCRIPT(token, NODES));
  await page.goto(`${server.url}/console/#/fleet`, { waitUntil: 'domcontentloaded' });
  await marks(page, NODES);
  const reloads = [await reload(page, NODES), await reload(page, NODES), await reload(page, NODES)];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const scrollEnd = await scrollToEnd(page, NODES);
  const scrapes = [await scrape(server), await scrape(server), await scrape(server)];
  console.log(JSON.stringify({ reloads: reloads.map((r) => ({ first_paint_ms: r.firstPaint, fleet_page_ms: r.full, cache: r.cache, server: r.server })), scroll_to_last_row_ms: scrollEnd, scrapes, load: loadavg() }));
  console.log(JSON.stringify({
    bench: 'console',
    nodes: NODES,
    first_paint_ms: median(runs.map((r) => r.firstPaint)),
    fleet_page_ms: median(runs.map((r) => r.full)),
    metrics_scrape_ms: median(scrapes.map((s) => s.ms)),
    metrics_bytes: scrapes.at(-1)!.bytes,
  }));
} catch (err) {
  // What the server said last (it may be what failed): its log is otherwise lost with its data dir.
  console.error(`bench/console failed; the server's last output:\n${server.output().slice(-6000)}`);
  throw err;
} finally {
  if (agents?.pid !== undefined && agents.exitCode === null) {
    const exited = new Promise((r) => agents!.once('exit', r));
    agents.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (agents.exitCode === null) agents.kill('SIGKILL');
  }
  rmSync(agentsDir, { recursive: true, force: true });
  agent?.destroy();
  await browser.close();
  await server.dispose();
}
