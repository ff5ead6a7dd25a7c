import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ApiError } from '../storage/status.ts';

/** Headers every API response carries. */
function baseHeaders(res: ServerResponse, contentType: string, warnings: readonly string[] | undefined): void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (warnings && warnings.length > 0) {
    // RFC 7234 warn-code 299 with agent "-": kubectl prints the text as `Warning: text` (§0).
    res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  }
}

const GZIP_THRESHOLD = 128 * 1024;

export interface WriteOptions {
  contentType?: string;
  warnings?: readonly string[];
}

export function writeJson(res: ServerResponse, status: number, body: unknown, opts: WriteOptions = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  writeJsonBytes(res, status, Buffer.from(JSON.stringify(body), 'utf8'), opts);
}

/** writeJson for a body already serialized (stored-json.ts; also /metrics' text, with its contentType). */
export function writeJsonBytes(res: ServerResponse, status: number, json: Buffer, opts: WriteOptions = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  let data = json;
  baseHeaders(res, opts.contentType ?? 'application/json', opts.warnings);
  // apiserver gzips responses over 128 KiB when the client accepts it (kubectl always does, §0).
  if (data.length > GZIP_THRESHOLD && /\bgzip\b/.test(String(res.req?.headers['accept-encoding'] ?? ''))) {
    data = gzipSync(data, { level: 1 });
    res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Vary', 'Accept-Encoding');
  }
  res.setHeader('Content-Length', data.length);
  res.statusCode = status;
  res.end(res.req?.method === 'HEAD' ? undefined : data);
}

export function writeError(res: ServerResponse, err: ApiError, warnings?: readonly string[]): void {
  if (err.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Basic realm="kubernetes-master"');
  if (err.details?.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.details.retryAfterSeconds));
  writeJson(res, err.httpStatus, err.toStatus(), { warnings });
}

