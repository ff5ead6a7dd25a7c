// The few HTTPS calls of a join, before the device has any credential of its own.
import { request } from 'node:https';

export interface CallResult {
  readonly status: number;
  readonly body: string;
  /** A 503's Retry-After in seconds (a busy server: src/server/join/join-routes.ts), when it sent one. */
  readonly retryAfterS?: number;
}

export interface CallOptions {
  readonly method: 'GET' | 'POST';
  /** Trust exactly this CA; absent = accept any certificate (only for fetching the CA, which is then pinned by hash). */
  readonly caPem?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export function httpsCall(url: string, o: CallOptions): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method,
        ...(o.caPem ? { ca: o.caPem } : { rejectUnauthorized: false }),
        headers: { ...(o.headers ?? {}), ...(o.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(o.body)) } : {}) },
        timeout: o.timeoutMs ?? 15_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        const retryAfterS = Number(res.headers['retry-after']);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.statusCode === 503 && Number.isFinite(retryAfterS) && retryAfterS > 0 ? { retryAfterS } : {}) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs ?? 15_000} ms`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The message of a Kubernetes Status body, or the raw text. */
export function statusMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    /* not JSON */
  }
  return body.trim() || '(empty answer)';
}
