/**
 * /console/: the console's three static files with a strict CSP. They carry no data and no
 * secret, so they are served to anyone (like kube-apiserver's /openapi is to authenticated and
 * the dashboard's files are to everyone); every piece of data the page shows comes from the API
 * with the signed-in person's token.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { writeStatus } from '../public-routes.ts';
import type { UserInfo } from '../auth/types.ts';
import { FleetView } from './fleet-view.ts';
import { LinkHistory } from './link-history.ts';
import { CONSOLE_CSP, CONSOLE_FILES, CONSOLE_FLEET_PATH, CONSOLE_LINKS_PATH, CONSOLE_PREFIX } from './types.ts';
import type { ConsoleAssets, ConsoleFile, ConsoleRoutes, ConsoleRoutesOptions, FleetQuery } from './types.ts';

const CONTENT_TYPES: Record<ConsoleFile, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** How long one fleet change stream runs before the page opens a new one. */
const STREAM_MS = 5 * 60_000;

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // Each build's files replace the last's under the same names: revalidate every load (ETag, 304).
  'Cache-Control': 'no-cache',
};

/** A file as served: its bytes, gzipped once, and an ETag of its content. */
interface ServedFile {
  readonly raw: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

const servedCache = new WeakMap<ConsoleAssets, Map<ConsoleFile, ServedFile>>();

function served(assets: ConsoleAssets, file: ConsoleFile): ServedFile {
  let m = servedCache.get(assets);
  if (!m) servedCache.set(assets, (m = new Map()));
  let f = m.get(file);
  if (!f) {
    const raw = assets.get(file)!;
    f = { raw, gzip: gzipSync(raw, { level: 9 }), etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"` };
    m.set(file, f);
  }
  return f;
}

export function createConsoleRoutes(o: ConsoleRoutesOptions): ConsoleRoutes {
  let assets: Promise<ConsoleAssets> | undefined;
  const load = () => {
    assets ??= o.load().catch((err: unknown) => {
      assets = undefined; // a failed source build may succeed once the source is fixed
      throw err;
    });
    return assets;
  };
  const history = new LinkHistory(o.links, o.now);
  const sampler = setInterval(() => history.sample(), o.sampleIntervalMs ?? 5 * 60_000);
  sampler.unref();
  history.sample();

  const fleet = new FleetView(o.store, o.log);
  // Open change streams of the fleet: one ticker for all, comparing the answer a second apart.
  const listeners = new Set<(revision: string) => void>();
  let ticker: ReturnType<typeof setInterval> | undefined;
  let lastChanges = -1;
  let lastSignature = '';
  let lastSentAt = 0;
  const tick = () => {
    const now = (o.now ?? Date.now)();
    // Online flips as Leases lapse, without any event: the counts are compared, not only the events.
    const a = fleet.query({ offset: 0, limit: 0, show: 'all', q: '' }, true, false, now);
    const signature = JSON.stringify(a.summary);
    const changed = fleet.changes !== lastChanges;
    // A changed count is told at once; other changes ("last seen" moving on) every 10 s at most.
    if (signature !== lastSignature || (changed && now - lastSentAt >= 10_000)) {
      lastSignature = signature;
      lastChanges = fleet.changes;
      lastSentAt = now;
      for (const l of listeners) l(a.revision);
    }
  };
  const listen = (l: (revision: string) => void): (() => void) => {
    listeners.add(l);
    ticker ??= setInterval(tick, 1000);
    return () => {
      listeners.delete(l);
      if (listeners.size === 0 && ticker) {
        clearInterval(ticker);
        ticker = undefined;
      }
    };
  };

  /** The caller, when it may list Nodes (what every console endpoint requires); else the answer is written. */
  async function nodeLister(req: IncomingMessage, res: ServerResponse, url: URL): Promise<UserInfo | undefined> {
    const auth = await o.authenticate(req);
    if (auth.kind !== 'user') {
      writeStatus(res, 401, 'Unauthorized', 'Unauthorized');
      return undefined;
    }
    const decision = await o.authorize({
      user: auth.user, verb: 'list', resourceRequest: true, path: url.pathname,
      apiGroup: '', apiVersion: 'v1', resource: 'nodes', subresource: '', namespace: '', name: '',
    });
    if (!decision) {
      writeStatus(res, 503, 'ServiceUnavailable', 'the API is starting');
      return undefined;
    }
    if (!decision.allowed) {
      writeStatus(res, 403, 'Forbidden', `nodes is forbidden: User "${auth.user.name}" cannot list resource "nodes" in API group "" at the cluster scope`);
      return undefined;
    }
    return auth.user;
  }

  const mayList = async (user: UserInfo, path: string, apiGroup: string, resource: string, namespace: string): Promise<boolean> =>
    (await o.authorize({ user, verb: 'list', resourceRequest: true, path, apiGroup, apiVersion: 'v1', resource, subresource: '', namespace, name: '' }))?.allowed === true;

  function fleetQuery(url: URL): FleetQuery | string {
    const p = url.searchParams;
    const int = (k: string, d: number, max: number): number | string => {
      const v = p.get(k);
      if (v === null) return d;
      const n = Number(v);
      return Number.isInteger(n) && n >= 0 && n <= max ? n : `${k} must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`;
    };
    const offset = int('offset', 0, 10_000_000);
    const limit = int('limit', 100, 1000);
    const show = p.get('show') ?? 'all';
    if (typeof offset === 'string') return offset;
    if (typeof limit === 'string') return limit;
    if (show !== 'all' && show !== 'online' && show !== 'offline') return `show must be all, online or offline, got ${JSON.stringify(show)}`;
    const pool = p.get('pool');
    return { offset, limit, show, q: p.get('q') ?? '', ...(pool !== null ? { pool } : {}) };
  }

  // The fleet's counts and a page of its nodes: what `list nodes` shows, so that permission reads
  // them; Leases (online) and Pods (counts) only as far as the caller may list those too.
  async function serveFleet(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const t0 = performance.now();
    const user = await nodeLister(req, res, url);
    if (!user) return;
    if (url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true') return streamFleet(req, res);
    const q = fleetQuery(url);
    if (typeof q === 'string') return writeStatus(res, 400, 'BadRequest', q);
    const [leases, pods] = await Promise.all([
      mayList(user, url.pathname, 'coordination.k8s.io', 'leases', 'kube-node-lease'),
      mayList(user, url.pathname, '', 'pods', ''),
    ]);
    const t1 = performance.now();
    await fleet.ready();
    const t2 = performance.now();
    const answer = fleet.query(q, leases, pods, (o.now ?? Date.now)());
    const rows = answer.rows.map((r) => {
      const b = history.bytesLastHour(r.name);
      return b === undefined ? r : { ...r, bytesLastHour: b };
    });
    const body = JSON.stringify({ ...answer, rows });
    const t3 = performance.now();
    // Where the server's time went (the browser's resource timing shows it; bench/console prints it):
    // authentication and authorization, waiting for the view's first list, the answer.
    const timing = `auth;dur=${(t1 - t0).toFixed(1)}, view;dur=${(t2 - t1).toFixed(1)}, query;dur=${(t3 - t2).toFixed(1)}`;
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Server-Timing': timing });
    res.end(body);
  }

  async function streamFleet(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await fleet.ready();
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.write(`${JSON.stringify({ type: 'CHANGED', revision: String(fleet.revision) })}\n`);
    const write = (revision: string) => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type: 'CHANGED', revision })}\n`);
    };
    const stop = listen(write);
    // As the API's watches do, end after a while: the page opens a new one (and the token is checked again).
    const end = setTimeout(() => {
      stop();
      res.end();
    }, o.streamMs ?? STREAM_MS);
    res.on('error', () => stop());
    res.on('close', () => {
      clearTimeout(end);
      stop();
    });
    req.on('error', () => res.destroy());
  }

  // The links' bytes are what `list nodes` would show of the fleet: that permission reads them.
  async function serveLinks(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!(await nodeLister(req, res, url))) return;
    const node = url.searchParams.get('node') ?? undefined;
    const body = JSON.stringify({ nodes: history.report(node) });
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(body);
  }

  return {
    prepare: () => {
      fleet.ready().catch((err: unknown) => o.log?.warn({ err }, 'console fleet view: the first list failed; the first fleet request lists again'));
    },
    close: () => {
      clearInterval(sampler);
      if (ticker) clearInterval(ticker);
      fleet.close();
    },
    cacheSizes: () => fleet.sizes(),
    matches: (url) => url.pathname === '/console' || url.pathname.startsWith(CONSOLE_PREFIX),
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'https://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return writeStatus(res, 405, 'MethodNotAllowed', 'the console serves GET and HEAD only');
      }
      if (url.pathname === CONSOLE_LINKS_PATH) {
        if (req.method !== 'GET') return writeStatus(res, 405, 'MethodNotAllowed', `${CONSOLE_LINKS_PATH} serves GET only`);
        serveLinks(req, res, url).catch((err: unknown) => {
          if (!res.headersSent) writeStatus(res, 500, 'InternalError', `reading the links failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        return;
      }
      if (url.pathname === CONSOLE_FLEET_PATH) {
        if (req.method !== 'GET') return writeStatus(res, 405, 'MethodNotAllowed', `${CONSOLE_FLEET_PATH} serves GET only`);
        serveFleet(req, res, url).catch((err: unknown) => {
          if (!res.headersSent) writeStatus(res, 503, 'ServiceUnavailable', `reading the fleet failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        return;
      }
      if (url.pathname === '/console') {
        res.writeHead(301, { Location: CONSOLE_PREFIX, ...SECURITY_HEADERS });
        res.end();
        return;
      }
      const rest = url.pathname.slice(CONSOLE_PREFIX.length);
      // The page's own routes live in the fragment (#/node/x), so only the files exist here.
      const file = (rest === '' ? 'index.html' : rest) as ConsoleFile;
      if (!CONSOLE_FILES.includes(file)) return writeStatus(res, 404, 'NotFound', `the console has no file ${JSON.stringify(rest)}`);
      load().then(
        (a) => {
          const f = served(a, file);
          const headers = { 'Content-Type': CONTENT_TYPES[file], ...SECURITY_HEADERS, ETag: f.etag, Vary: 'Accept-Encoding' };
          // "no-cache" makes the browser ask each load; an unchanged file is then a 304 without a body.
          if (req.headers['if-none-match'] === f.etag) {
            res.writeHead(304, headers);
            res.end();
            return;
          }
          const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
          const body = gzip ? f.gzip : f.raw;
          res.writeHead(200, { ...headers, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': body.length });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          res.setHeader('Content-Security-Policy', CONSOLE_CSP);
          writeStatus(res, 503, 'ServiceUnavailable', `the console is not available: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    },
  };
}
