// The paths apiserver serves to everyone (RBAC's system:public-info-viewer): health checks and
// /version. The server owns them so that they work before, and independently of, the API handler:
// the kubectl dispatcher reads /version before every command (kubectl-wire.md §0).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthenticationResult } from './auth/types.ts';

export interface HealthCheck {
  readonly name: string;
  /** undefined = healthy, otherwise why not (logged, not sent: apiserver withholds reasons). */
  readonly check: () => string | undefined;
}

export interface PublicRoutes {
  readonly livez: readonly HealthCheck[];
  readonly readyz: readonly HealthCheck[];
  readonly version: Record<string, string>;
}

export const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** A public path with its trailing slash removed, or undefined when the path is not public. */
export function publicPath(url: URL): string | undefined {
  const p = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  return PUBLIC_PATHS.has(p) ? p : undefined;
}

export function writeStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

// kubectl reads /version before every command: its body is serialized once.
const versionBodies = new WeakMap<Record<string, string>, string>();
function versionBody(version: Record<string, string>): string {
  let body = versionBodies.get(version);
  if (body === undefined) {
    body = JSON.stringify(version, null, 2);
    versionBodies.set(version, body);
  }
  return body;
}

/**
 * Answers /healthz, /livez, /readyz and /version. A rejected credential gets 401 like everywhere
 * else (apiserver authenticates before it authorizes the public paths).
 */
export function servePublic(req: IncomingMessage, res: ServerResponse, path: string, auth: AuthenticationResult, routes: PublicRoutes): void {
  if (auth.kind === 'rejected') return writeStatus(res, 401, 'Unauthorized', 'Unauthorized');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return writeStatus(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
  if (path === '/version') {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(versionBody(routes.version));
    return;
  }
  const checks = path === '/readyz' ? [...routes.livez, ...routes.readyz] : routes.livez;
  serveHealth(req, res, path.slice(1), checks);
}

// The text format of apiserver's healthz handler: "ok", or with ?verbose one "[+]name ok" line per
// check and "<name> check passed"; a failing check gives 500 and "[-]name failed: reason withheld".
function serveHealth(req: IncomingMessage, res: ServerResponse, name: string, checks: readonly HealthCheck[]): void {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const verbose = url.searchParams.has('verbose');
  const results = [{ name: 'ping', failure: undefined as string | undefined }, ...checks.map((c) => ({ name: c.name, failure: c.check() }))];
  const failed = results.some((r) => r.failure !== undefined);
  const lines = results.map((r) => (r.failure === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
  let body: string;
  if (failed) body = `${lines.join('\n')}\n${name} check failed\n`;
  else body = verbose ? `${lines.join('\n')}\n${name} check passed\n` : 'ok';
  res.writeHead(failed ? 500 : 200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache, private',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
