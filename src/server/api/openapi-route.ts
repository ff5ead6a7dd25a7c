/**
 * /openapi/v3 and /openapi/v3/<group-version> from the OpenAPI module (kubectl-wire.md §2);
 * /openapi/v2 is 404 on purpose: kubectl asks for it as protobuf only, and a 404 is harmless once
 * v3 is served.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openapiGroupVersionBody, openapiRoot } from '../openapi/index.ts';
import { writeJson } from './respond.ts';
import { pathNotFound } from './status.ts';

export function isOpenApiPath(path: string): boolean {
  return path === '/openapi/v3' || path.startsWith('/openapi/v3/') || path === '/openapi/v2';
}

export function serveOpenApi(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (path === '/openapi/v3') return writeJson(res, 200, openapiRoot());
  if (path === '/openapi/v2') throw pathNotFound();
  const doc = openapiGroupVersionBody(path.slice('/openapi/v3/'.length));
  if (!doc) throw pathNotFound();
  const etag = `"${doc.hash}"`;
  res.setHeader('ETag', etag);
  // The URL carries the hash (serverRelativeURL), so the document under it never changes.
  res.setHeader('Cache-Control', 'public, immutable');
  if (req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(doc.body));
  res.end(req.method === 'HEAD' ? undefined : doc.body);
}
