/**
 * The web console in a real browser (headless Chromium) against the real `edgeos server` process,
 * a real agent (`edgeos join` run with the command the console gives) and simulated nodes (Node
 * objects created through the API, with no agent behind them): sign-in is refused without a
 * token; the console's responses carry the strict CSP and the browser enforces it; RBAC decides
 * what is shown; the fleet shows the device online and red once it stops, within the lifecycle
 * window; the node page shows its conditions; keyboard navigation; axe-core finds no serious
 * violation; screenshots at desktop and phone widths land in test-artifacts/console/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, serverProcess, waitFor } from '../link/harness.ts';
import type { ServerProcess } from '../link/harness.ts';
import { DESKTOP, inPage, launchChromium, PHONE, seriousViolations, untilInPage } from './browser.ts';
import type { IsolatedBrowser } from './browser.ts';

const ARTIFACTS = join(REPO, 'test-artifacts', 'console');
const GRACE_S = 5;
/** The agent's Lease duration: a Lease not renewed for this long has lapsed. */
const LEASE_S = 40;

let server: ServerProcess;
let isolated: IsolatedBrowser;
let browser: Browser;
let token: string;
const children: number[] = [];

async function serviceAccountToken(name: string, clusterRole: string | undefined): Promise<string> {
  expect((await server.api('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } })).status).toBe(201);
  if (clusterRole) {
    const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `console-${name}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole }, subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }] };
    expect((await server.api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding)).status).toBe(201);
  }
  const r = await server.api('POST', `/api/v1/namespaces/default/serviceaccounts/${name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  expect(r.status).toBe(201);
  return r.body.status.token as string;
}

/** A simulated node: a Node object with no agent behind it. */
async function simulatedNode(name: string, pool: string): Promise<void> {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'apps.edgeos.io/pool': pool } }, status: { nodeInfo: { kubeletVersion: 'v1.32.0-sim', architecture: 'arm64' } } };
  expect((await server.api('POST', '/api/v1/nodes', node)).status).toBe(201);
}

/** Opens a console page: a new document the first time, then a change of the fragment (same document). */
async function show(page: Page, hash: string): Promise<void> {
  if (page.url().startsWith(`${server.url}/console/`)) await inPage(page, `location.hash = ${JSON.stringify(hash)}`);
  else await page.goto(`${server.url}/console/${hash}`, { waitUntil: 'domcontentloaded' });
}

async function signIn(page: Page, withToken: string): Promise<void> {
  await show(page, '#/sign-in');
  await page.waitForSelector('#token');
  await page.type('#token', withToken);
  await page.click('button[type=submit]');
  await page.waitForSelector('#fleet-summary');
}

const stateOf = (page: Page, node: string) => inPage<string | null>(page, `document.querySelector('a.row[data-node="${node}"]')?.dataset.state ?? null`);
const text = (page: Page, selector: string) => inPage<string | null>(page, `document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`);

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await serverProcess(['--node-monitor-grace-period', `${GRACE_S}s`]);
  token = await serviceAccountToken('console-admin', 'cluster-admin');
  for (let i = 0; i < 3; i++) await simulatedNode(`sim-${i}`, 'shop-sim');
  isolated = await launchChromium(server.port);
  browser = isolated.browser;
}, 120_000);

afterAll(async () => {
  await isolated?.close();
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
  await server?.dispose();
});

describe('console', () => {
  it('serves its files with a strict CSP that the browser enforces; without a token only the sign-in, and it refuses', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(`${server.url}/console/`, { waitUntil: 'domcontentloaded' });
    const csp = res!.headers()['content-security-policy']!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res!.headers()['x-content-type-options']).toBe('nosniff');
    await page.waitForSelector('#token');
    // An inline script does not run …
    const inlineRan = await inPage<boolean>(page, `(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = true'; document.body.append(s); return window.__inline === true; })()`);
    expect(inlineRan).toBe(false);

    // No token: refused, nothing stored, no data; the API refuses the page's calls without one.
    await page.click('button[type=submit]');
    await untilInPage(page, `/token is required/.test(document.getElementById('sign-in-error')?.textContent ?? '')`);
    await page.type('#token', 'not-a-real-token');
    await page.click('button[type=submit]');
    await untilInPage(page, `/refused this token/.test(document.getElementById('sign-in-error')?.textContent ?? '')`);
    expect(await inPage(page, 'sessionStorage.length')).toBe(0);
    expect(await page.$('#fleet-summary')).toBeNull();
    // (credentials 'omit' as the console's own calls: the API's 401 carries a Basic challenge, for
    // which a browser would otherwise prompt, as it does for kube-apiserver's.)
    expect(await inPage(page, `Promise.all(['/api/v1/nodes', '/console/api/links', '/console/api/fleet', '/console/api/fleet?watch=1'].map((p) => fetch(p, { credentials: 'omit' }).then((r) => r.status)))`)).toEqual([401, 401, 401, 401]);
    // Going straight to a page without a token lands on the sign-in.
    await show(page, '#/fleet');
    await page.waitForSelector('#token');
    expect(await page.$('#fleet-summary')).toBeNull();
    await page.setViewport(PHONE);
    await page.screenshot({ path: join(ARTIFACTS, 'sign-in-phone.png') });
    expect(await seriousViolations(page)).toEqual([]);
    // … and the console's own code ran under the policy without tripping it.
    expect(violations.filter((v) => !/__inline/.test(v) && !/inline script/i.test(v))).toEqual([]);
    await page.close();
  });

  it('a ServiceAccount without RBAC permissions signs in but is shown nothing', async () => {
    const nobody = await serviceAccountToken('console-nobody', undefined);
    const page = await browser.newPage();
    await signIn(page, nobody);
    await untilInPage(page, `/forbidden/i.test(document.getElementById('fleet-status')?.textContent ?? '')`);
    expect(await page.$$('a.row')).toHaveLength(0);
    await page.close();
  });

  it('the token page gives a command that joins a device; the fleet shows it online, then red within the lifecycle window once it stops', async () => {
    const page = await browser.newPage();
    await page.setViewport(DESKTOP);
    await signIn(page, token);
    await show(page, '#/add-device');
    await page.waitForSelector('#pool');
    await page.type('#pool', 'shop-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('#join-command');
    const command = await inPage<string>(page, `document.getElementById('join-command').value`);
    expect(command).toMatch(/^sudo edgeos join edgeos1\.[A-Za-z0-9_-]+ --pool shop-1$/);
    await page.screenshot({ path: join(ARTIFACTS, 'add-device-desktop.png') });
    expect(await seriousViolations(page)).toEqual([]);

    // Run the command as given (without sudo; with the test's own data dir and no containers).
    const args = command.split(' ').slice(2);
    const dataDir = join(server.dir, 'device');
    const child = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), ...args, '--data-dir', dataDir, '--node-name', 'device-1', '--disable-runtime'],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEOS_LOG_LEVEL: 'info' } });
    children.push(child.pid!);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));

    await show(page, '#/fleet');
    await page.waitForSelector('#fleet-summary');
    await waitFor('device-1 online in the fleet', async () => ((await stateOf(page, 'device-1')) === 'online' ? true : undefined), 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}; the device said:\n${out}`);
    });
    expect(await text(page, 'a.row[data-node="device-1"] .pool')).toBe('shop-1');
    // The simulated nodes have no agent: red, listed first.
    expect(await stateOf(page, 'sim-0')).toBe('offline');
    expect(await text(page, '#fleet-summary')).toBe('4 nodes: 1 online, 3 offline');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-desktop.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewport(PHONE);
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-phone.png'), fullPage: true });
    // Usable at phone width: nothing wider than the screen.
    expect(await inPage(page, 'document.documentElement.scrollWidth <= innerWidth')).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewport(DESKTOP);

    // The device stops (a power cut). Its Lease lapses LEASE_S after its last renewal (the node
    // lifecycle controller's window for a node whose kubelet posts status is GRACE_S): red by then,
    // give or take the page's 10 s redraw.
    const lastRenew = Date.parse((await server.api('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/device-1')).body.spec.renewTime as string);
    process.kill(child.pid!, 'SIGKILL');
    // State and colour read in one evaluation (the list redraws between two).
    const row = () => inPage<{ state?: string; color?: string }>(page, `(() => { const a = document.querySelector('a.row[data-node="device-1"]'); return { state: a?.dataset.state, color: a && getComputedStyle(a.querySelector('.dot')).backgroundColor }; })()`);
    const red = await waitFor('device-1 offline in the fleet', async () => {
      const r = await row();
      return r.state === 'offline' ? r : undefined;
    }, 90_000, 250);
    expect((Date.now() - lastRenew) / 1000).toBeLessThan(LEASE_S + 15);
    expect(red.color).toBe('rgb(192, 38, 45)');
    // And it stays red: nothing renews a dead device's Lease.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await row();
    if (after.state !== 'offline') {
      const node = await server.api('GET', '/api/v1/nodes/device-1');
      const lease = await server.api('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/device-1');
      throw new Error(`device-1 back to ${after.state}: conditions ${JSON.stringify(node.body.status?.conditions)}, lease ${JSON.stringify(lease.body.spec)}`);
    }
    expect(await text(page, '#fleet-summary')).toBe('4 nodes: 0 online, 4 offline');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-offline-desktop.png') });

    // The node page: offline, its conditions as the lifecycle controller left them.
    await page.click('a.row[data-node="device-1"]');
    await page.waitForSelector('#node-state');
    expect(await inPage(page, `document.getElementById('node-state').dataset.state`)).toBe('offline');
    await untilInPage(page, `[...document.querySelectorAll('td')].some((td) => td.textContent === 'NodeStatusNeverUpdated' || td.textContent === 'NodeStatusUnknown')`);
    // Its link history: the join's connect, and the disconnect when the process died.
    await untilInPage(page, `(() => { const cells = [...document.querySelectorAll('#link-history td')].map((td) => td.textContent); return cells.includes('connected') && cells.includes('disconnected'); })()`);
    expect(await text(page, '#link-history p')).toMatch(/1 connect, 1 disconnect since the server started/);
    await page.screenshot({ path: join(ARTIFACTS, 'node-desktop.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewport(PHONE);
    await page.screenshot({ path: join(ARTIFACTS, 'node-phone.png'), fullPage: true });
    await page.close();
  }, 240_000);

  it('the pool page lists a pool\'s nodes with its NodePool; the workloads page shows a PoolSet per pool and leads to the pool', async () => {
    const nodePool = { apiVersion: 'apps.edgeos.io/v1', kind: 'NodePool', metadata: { name: 'shop-sim' }, spec: { type: 'Edge' } };
    expect((await server.api('POST', '/apis/apps.edgeos.io/v1/nodepools', nodePool)).status).toBe(201);
    const poolSet = {
      apiVersion: 'apps.edgeos.io/v1', kind: 'PoolSet', metadata: { name: 'web', namespace: 'default' },
      spec: {
        pools: ['shop-sim'],
        workload: { workloadTemplate: { deploymentTemplate: { spec: {
          replicas: 2, selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
        } } } },
      },
    };
    expect((await server.api('POST', '/apis/apps.edgeos.io/v1/namespaces/default/poolsets', poolSet)).status).toBe(201);

    const page = await browser.newPage();
    await page.setViewport(DESKTOP);
    await signIn(page, token);
    await show(page, '#/workloads');
    // The PoolSet controller writes the per-pool status: the simulated nodes run nothing, so 0 of 2 ready.
    const workloadShown = `[...document.querySelectorAll('section.card td')].some((td) => td.textContent === 'web-shop-sim')`;
    await untilInPage(page, workloadShown, 60_000);
    const cells = await inPage<string[]>(page, `[...document.querySelectorAll('section.card tbody tr td')].map((td) => td.textContent)`);
    expect(cells.slice(0, 3)).toEqual(['shop-sim', 'web-shop-sim', '0/2']);
    expect(await inPage(page, `document.querySelector('section.card').getAttribute('aria-label')`)).toBe('PoolSet default/web');
    await page.screenshot({ path: join(ARTIFACTS, 'workloads-desktop.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    // (A change to or from a phone's viewport reloads the page in puppeteer: wait for it to draw again.)
    await page.setViewport(PHONE);
    await untilInPage(page, workloadShown);
    await page.screenshot({ path: join(ARTIFACTS, 'workloads-phone.png'), fullPage: true });
    expect(await inPage(page, 'document.documentElement.scrollWidth <= innerWidth')).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewport(DESKTOP);
    await untilInPage(page, workloadShown);

    // The pool link leads to the pool: its NodePool's type, its three simulated nodes, all red.
    await page.click('section.card td a[href="#/pool/shop-sim"]');
    const poolShown = `/NodePool type Edge\\. 3 nodes, 0 online, 3 offline\\./.test(document.getElementById('pool-summary')?.textContent ?? '') && document.querySelectorAll('a.row[data-node]').length === 3`;
    await untilInPage(page, poolShown);
    const rows = await inPage<{ node: string; state: string; pool: string }[]>(page, `[...document.querySelectorAll('a.row[data-node]')].map((a) => ({ node: a.dataset.node, state: a.dataset.state, pool: a.querySelector('.pool').textContent }))`);
    expect(rows).toEqual(['sim-0', 'sim-1', 'sim-2'].map((node) => ({ node, state: 'offline', pool: 'shop-sim' })));
    expect(await page.$('a.row[data-node="device-1"]')).toBeNull();
    await page.screenshot({ path: join(ARTIFACTS, 'pool-desktop.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewport(PHONE);
    await untilInPage(page, poolShown);
    await page.screenshot({ path: join(ARTIFACTS, 'pool-phone.png'), fullPage: true });
    expect(await inPage(page, 'document.documentElement.scrollWidth <= innerWidth')).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    // A pool with no NodePool object: the device's, labelled by its join.
    await show(page, '#/pool/shop-1');
    await untilInPage(page, `/No NodePool object: nodes labelled into it\\. 1 nodes/.test(document.getElementById('pool-summary')?.textContent ?? '')`);
    expect(await inPage(page, `[...document.querySelectorAll('a.row[data-node]')].map((a) => a.dataset.node)`)).toEqual(['device-1']);
    await page.close();

    // The server's caches as /metrics counts them: the controllers' informers and the console's view.
    const metrics = (await server.api('GET', '/metrics')).body as string;
    const cache = (name: string) => Number(new RegExp(`^edgeos_cache_objects\\{cache="${name}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(cache('controllers/nodes')).toBe(4);
    expect(cache('console/fleet-nodes')).toBe(4);
    expect(cache('controllers/poolsets.apps.edgeos.io')).toBe(1);
  }, 120_000);

  it('is usable with the keyboard: arrows move through the node list, Enter opens a node', async () => {
    const page = await browser.newPage();
    await page.setViewport(DESKTOP);
    await signIn(page, token);
    await untilInPage(page, `document.querySelectorAll('a.row[data-node]').length >= 4`);
    await page.focus('a.row[data-index="0"]');
    await page.keyboard.press('ArrowDown');
    expect(await inPage(page, 'document.activeElement.dataset.index')).toBe('1');
    await page.keyboard.press('End');
    const last = await inPage<string>(page, 'document.activeElement.dataset.node');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#node-state');
    expect(await inPage(page, 'decodeURIComponent(location.hash)')).toBe(`#/node/${last}`);
    await page.close();
  });

  it('with more pools than fit, the node list stays on the first screen and the other pools are one click away', async () => {
    // 101 pools put the node list of a 1280×800 window below the fold, so no row was drawn.
    for (let i = 0; i < 30; i++) await simulatedNode(`many-${i}`, `many-${String(i).padStart(2, '0')}`);
    const page = await browser.newPage();
    await page.setViewport(DESKTOP);
    await signIn(page, token);
    await untilInPage(page, `document.querySelectorAll('#more-pools details li').length > 0 && document.querySelectorAll('a.row[data-node]').length > 0`);
    const shown = await inPage<{ chips: number; more: number; summary: string; listTop: number }>(page, `({
      chips: document.querySelectorAll('ul.pools[aria-label="Pools"] > li').length,
      more: document.querySelectorAll('#more-pools details li').length,
      summary: document.querySelector('#more-pools summary').textContent,
      listTop: document.querySelector('ul.vlist').getBoundingClientRect().top,
    })`);
    expect(shown.chips).toBe(24);
    expect(shown.summary).toBe(`${shown.more} more pools`);
    expect(shown.chips + shown.more).toBeGreaterThanOrEqual(30);
    expect(shown.listTop).toBeLessThan(DESKTOP.height);
    await page.click('#more-pools summary');
    expect(await inPage(page, `document.querySelector('#more-pools details').open`)).toBe(true);
    await page.close();
  });
});
