/**
 * /console/: the console's three static files with a strict CSP. They carry no data and no
 * secret, so they are served to anyone (like kube-apiserver's /openapi is to authenticated and
 * the dashboard's files are to everyone); every piece of data the page shows comes from the API
 * with the signed-in person's token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeStatus } from '../public-routes.ts';
import { LinkHistory } from './link-history.ts';
import { CONSOLE_CSP, CONSOLE_FILES, CONSOLE_LINKS_PATH, CONSOLE_PREFIX } from './types.ts';
import type { ConsoleAssets, ConsoleFile, ConsoleRoutes, ConsoleRoutesOptions } from './types.ts';

const CONTENT_TYPES: Record<ConsoleFile, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // Each build's files replace the last's under the same names: revalidate every load.
  'Cache-Control': 'no-cache',
};

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

  // The links' bytes are what `list nodes` would show of the fleet: that permission reads them.
  async function serveLinks(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const auth = await o.authenticate(req);
    if (auth.kind !== 'user') return writeStatus(res, 401, 'Unauthorized', 'Unauthorized');
    const decision = await o.authorize({
      user: auth.user, verb: 'list', resourceRequest: true, path: url.pathname,
      apiGroup: '', apiVersion: 'v1', resource: 'nodes', subresource: '', namespace: '', name: '',
    });
    if (!decision) return writeStatus(res, 503, 'ServiceUnavailable', 'the API is starting');
    if (!decision.allowed) {
      return writeStatus(res, 403, 'Forbidden', `nodes is forbidden: User "${auth.user.name}" cannot list resource "nodes" in API group "" at the cluster scope`);
    }
    const node = url.searchParams.get('node') ?? undefined;
    const body = JSON.stringify({ nodes: history.report(node) });
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(body);
  }

  return {
    close: () => clearInterval(sampler),
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
          const body = a.get(file)!;
          res.writeHead(200, { 'Content-Type': CONTENT_TYPES[file], 'Content-Length': body.length, ...SECURITY_HEADERS });
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
