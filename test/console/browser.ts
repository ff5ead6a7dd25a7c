/**
 * Headless Chromium from Debian (`apt-get install chromium`: scripts/setup.sh --test) driven by
 * puppeteer-core, and axe-core's accessibility rules run inside the page. The console's CSP
 * forbids inline scripts, so axe is evaluated through the DevTools protocol, which CSP does not
 * govern, rather than injected as a <script>.
 *
 * Chromium runs in a network namespace of its own: it aborts requests in flight with
 * ERR_NETWORK_CHANGED whenever an address of its namespace changes, which on this shared machine
 * (other tests adding veths and bridges) happens every few seconds. Inside, 127.0.0.1:<port> is
 * forwarded through a Unix socket (the file system is shared) to the server's 127.0.0.1:<port>, so
 * the page's origin is the server's. DevTools talks over a pipe, not a port.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { createNetns } from '../helpers/netns.ts';

export const CHROMIUM = process.env.EDGEOS_TEST_CHROMIUM ?? '/usr/bin/chromium';

export interface IsolatedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Chromium in its own network namespace, reaching https://127.0.0.1:<port> of this host's loopback. */
export async function launchChromium(port: number): Promise<IsolatedBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-chromium-'));
  const ns = createNetns('chrome');
  const sock = join(dir, 'forward.sock');
  const relay = createServer((c) => {
    const s = connect(port, '127.0.0.1');
    c.pipe(s).pipe(c);
    c.on('error', () => s.destroy());
    s.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(sock, r));
  const forward = spawn(ns.prefix[0]!, [...ns.prefix.slice(1), process.execPath, join(import.meta.dirname, 'netns-forward.ts'), sock, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const cleanUp = () => {
    if (forward.pid !== undefined && forward.exitCode === null) process.kill(forward.pid, 'SIGKILL');
    relay.close();
    ns.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      forward.stdout!.once('data', () => resolve());
      forward.once('exit', (code) => reject(new Error(`the forwarder in ${ns.name} exited with ${code}`)));
    });
    const profile = join(dir, 'profile');
    const defaults = await puppeteer.defaultArgs({ headless: true, userDataDir: profile, executablePath: CHROMIUM });
    const browser = await puppeteer.launch({
      executablePath: '/usr/bin/nsenter',
      ignoreDefaultArgs: true,
      pipe: true,
      // The server's certificate is signed by the test cluster's own CA.
      acceptInsecureCerts: true,
      args: [
        ...ns.prefix.slice(1), CHROMIUM,
        ...defaults,
        '--remote-debugging-pipe',
        // Root in a container has no user namespaces for Chromium's sandbox.
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      ],
    });
    return {
      browser,
      close: async () => {
        await browser.close().catch(() => {});
        cleanUp();
      },
    };
  } catch (err) {
    cleanUp();
    throw err;
  }
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/** An expression evaluated in the page (a string: the tests are compiled without the DOM's types). */
export const inPage = <T>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

/** Waits until the expression is truthy in the page. */
export async function untilInPage(page: Page, expression: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(expression, { timeout, polling: 200 });
}

/** axe-core's WCAG A/AA rules on the page as it is now; the violations rated serious or critical. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const found = await inPage<AxeViolation[]>(page, `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })))`);
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
