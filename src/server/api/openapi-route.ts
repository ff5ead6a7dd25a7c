/**
 * /openapi/v3 and /openapi/v3/<group-version> from the OpenAPI module (kubectl-wire.md §2), and
 * the swagger 2.0 document at /openapi/v2 (protobuf when asked for, else JSON) and its legacy
 * protobuf-only name /swagger-2.0.0.pb-v1: kubectl 1.27/1.28 download v2 for create -f, apply and
 * explain and fail on a 404 (docs/openapi.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openapiGroupVersionBody, openapiRoot } from '../openapi/index.ts';
import { acceptsSwaggerProtobuf, SWAGGER_PROTOBUF, swaggerDocument } from '../openapi/v2/index.ts';
import { writeJson } from './respond.ts';
import { pathNotFound } from '../storage/status.ts';

export function isOpenApiPath(path: string): boolean {
  return path === '/openapi/v3' || path.startsWith('/openapi/v3/') || path === '/openapi/v2' || path === '/swagger-2.0.0.pb-v1';
}

export function serveOpenApi(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (path === '/openapi/v3') return writeJson(res, 200, openapiRoot());
  if (path === '/openapi/v2' || path === '/swagger-2.0.0.pb-v1') return serveSwagger(req, res, path === '/swagger-2.0.0.pb-v1' || acceptsSwaggerProtobuf(req.headers.accept));
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

function serveSwagger(req: IncomingMessage, res: ServerResponse, protobuf: boolean): void {
  const doc = swaggerDocument();
  const body = protobuf ? doc.proto : doc.json;
  const etag = `"${doc.hash}${protobuf ? '-pb' : ''}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Vary', 'Accept');
  // Unlike the v3 documents the URL has no hash, so clients must revalidate (kube-apiserver: no-cache).
  res.setHeader('Cache-Control', 'no-cache, private');
  if (req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', protobuf ? SWAGGER_PROTOBUF : 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
