/**
 * The HTTP entry of the API: authenticate (401 for anonymous callers), authorize (403), then
 * serve discovery or a resource request. Every failure becomes a Status body; nothing escapes as
 * an unhandled rejection, and a response never starts twice.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EdgeosError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { UserInfo } from '../auth/types.ts';
import { attributesOf, authorize, forbiddenFor } from './authorize.ts';
import { impersonatedUser } from '../auth/index.ts';
import type { ApiDeps } from './context.ts';
import { observeRequest, requestLabels } from './observe.ts';
import type { ApiMetrics } from './types.ts';
import { apiRoot, apisRoot, groupDocument, resourceList } from './discovery.ts';
import { parseRequest, requestUrl } from './request-info.ts';
import type { RequestInfo, ResourceRequest } from './request-info.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { writeError, writeJson, writeJsonBytes } from './respond.ts';
import { isOpenApiPath, serveOpenApi } from './openapi-route.ts';
import { route } from './route.ts';
import { ApiError, badRequest, internalError, methodNotAllowed, pathNotFound, unauthorized } from '../storage/status.ts';

export interface HandlerDeps extends ApiDeps {
  readonly metrics?: ApiMetrics;
  /** Resolves once bootstrap (default namespaces, CRDs) is done. */
  readonly ready: Promise<void>;
}

// Request ids only correlate log lines: a random start per process, then a counter (randomBytes
// for every request cost more than routing it).
let lastRequestId = randomBytes(6).readUIntBE(0, 6);

export function newRequestId(): string {
  lastRequestId = (lastRequestId + 1) % 2 ** 48;
  return lastRequestId.toString(16).padStart(12, '0');
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EdgeosError) return internalError(err.message, err);
  return internalError('an unexpected error occurred', err);
}

export interface Authenticated {
  readonly user: UserInfo;
  readonly url: URL;
  readonly info: RequestInfo;
}

/** What a request addresses, parsed once (the metrics label a request even when it is refused). */
export function requestOf(req: IncomingMessage): { url: URL; info: RequestInfo } {
  const url = requestUrl(req.url);
  return { url, info: parseRequest(req.method ?? 'GET', url) };
}

/** Authentication (with impersonation) and authorization shared by requests and upgrades. */
export async function admitRequest(h: HandlerDeps, req: IncomingMessage, { url, info }: { url: URL; info: RequestInfo }): Promise<Authenticated> {
  const authenticated = await h.authenticator.authenticate(req);
  if (!authenticated) throw unauthorized();
  const user = await impersonatedUser(h.authorizer, req, authenticated);
  if ('badRequest' in user) throw badRequest(user.badRequest);
  if ('forbidden' in user) throw forbiddenFor(user.forbidden, user.reason);
  const denied = await authorize(h.authorizer, attributesOf(user, req.method ?? 'GET', info, url.pathname));
  if (denied) throw denied;
  await h.ready;
  return { user, url, info };
}

/** The served resource a request addresses, or 404 when it is not served at that scope. */
export function resolveResource(h: HandlerDeps, info: RequestInfo): { info: ResourceRequest; resource: ResourceInfo } {
  if (info.kind !== 'resource') throw pathNotFound();
  const resource = h.registry.resolve(info.group, info.version, info.resource);
  if (!resource) throw pathNotFound();
  // A namespaced resource needs a namespace for anything addressed by name or created; a
  // cluster-scoped one must not have one.
  if (resource.namespaced && info.namespace === '' && (info.name !== '' || info.verb === 'create' || info.verb === 'deletecollection')) throw pathNotFound();
  if (!resource.namespaced && info.namespace !== '') throw pathNotFound();
  return { info, resource };
}

async function serve(h: HandlerDeps, req: IncomingMessage, res: ServerResponse, request: { url: URL; info: RequestInfo }, log: () => Logger): Promise<void> {
  const a = await admitRequest(h, req, request);
  const info = a.info;
  const method = req.method ?? 'GET';
  if (info.kind === 'nonresource') {
    if ((method === 'GET' || method === 'HEAD') && isOpenApiPath(info.path)) return serveOpenApi(req, res, info.path);
    if (info.path === '/metrics' && h.metrics) return serveMetrics(h.metrics, req, res);
    throw pathNotFound();
  }
  if (info.kind === 'discovery' || info.verb === 'discovery') {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    const accept = req.headers.accept;
    if (info.kind === 'discovery') {
      if (info.path === '/api') {
        const host = req.headers.host ?? '';
        const ans = apiRoot(h.registry, accept, host);
        return writeJson(res, 200, ans.body, { contentType: ans.contentType });
      }
      if (info.path === '/apis') {
        const ans = apisRoot(h.registry, accept);
        return writeJson(res, 200, ans.body, { contentType: ans.contentType });
      }
      const g = groupDocument(h.registry, info.group);
      if (!g) throw pathNotFound();
      return writeJson(res, 200, g);
    }
    if (!h.registry.hasGroupVersion(info.group, info.version)) throw pathNotFound();
    return writeJson(res, 200, resourceList(h.registry, info.group, info.version));
  }
  if (!h.registry.hasGroupVersion(info.group, info.version)) throw pathNotFound();
  const { resource } = resolveResource(h, info);
  await route(h, {
    req, res, url: a.url, query: a.url.searchParams, info, resource, user: a.user, warnings: [],
    get log() {
      return log();
    },
  });
}

/** GET /metrics: the Prometheus text exposition (reached only by identities RBAC lets get "/metrics"). */
async function serveMetrics(metrics: ApiMetrics, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
  const { contentType, body } = await metrics.scrape();
  // Gzipped over 128 KiB when the scraper accepts it, as apiserver's compression does (Prometheus
  // sends Accept-Encoding: gzip): ~0.5 MB of text becomes ~40 kB for a few ms of CPU.
  writeJsonBytes(res, 200, Buffer.from(body, 'utf8'), { contentType });
}

export function handleRequest(h: HandlerDeps, req: IncomingMessage, res: ServerResponse): void {
  const reqId = newRequestId();
  // The per-request child logger is made only when something logs: at the default level most
  // requests log nothing.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= h.log.child({ reqId }));
  const debug = h.log.isLevelEnabled('debug');
  const started = Date.now();
  const request = requestOf(req);
  if (h.metrics) observeRequest(h.metrics, requestLabels(h.registry, req, request.url, request.info, false), res);
  serve(h, req, res, request, log).then(
    () => {
      if (debug) log().debug({ method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }, 'request');
    },
    (err: unknown) => {
      const apiErr = toApiError(err);
      if (apiErr.httpStatus >= 500) log().error({ err: apiErr.cause ?? apiErr, method: req.method, url: req.url }, 'request failed');
      else if (debug) log().debug({ method: req.method, url: req.url, status: apiErr.httpStatus, reason: apiErr.reason }, 'request refused');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Drain an unread body so the connection can be reused.
      if (!req.complete) req.resume();
      writeError(res, apiErr);
    },
  );
}
