// The console's only way to the server: the real Kubernetes API, with the bearer token the person
// signed in with in an Authorization header. The token lives in sessionStorage (this tab only,
// gone when it closes) and is never put in a cookie, so a cross-site page cannot make the browser
// send it: the console needs no CSRF token (docs/console.md).

const TOKEN_KEY = 'edgeos.console.token';

export const storedToken = (): string | undefined => sessionStorage.getItem(TOKEN_KEY) ?? undefined;
export const storeToken = (t: string): void => sessionStorage.setItem(TOKEN_KEY, t);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface KObject {
  readonly metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; creationTimestamp?: string };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly [k: string]: any;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export class Api {
  readonly token: string;
  /** Told when the server refuses the token (it expired, or was revoked): the page signs out. */
  onUnauthorized: () => void = () => {};

  constructor(token: string) {
    this.token = token;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.token}`, Accept: 'application/json', ...extra };
  }

  async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Json> {
    const r = await fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await r.text();
    let parsed: Json;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!r.ok) {
      if (r.status === 401) this.onUnauthorized();
      throw new ApiError(r.status, typeof parsed?.message === 'string' ? parsed.message : `HTTP ${r.status}`);
    }
    return parsed;
  }

  get = (path: string, signal?: AbortSignal): Promise<Json> => this.request('GET', path, undefined, signal);
  post = (path: string, body: unknown): Promise<Json> => this.request('POST', path, body);

  /**
   * A stream of JSON lines (the fleet's change stream): resolves when the server ends it or the
   * signal aborts.
   */
  async lines(path: string, onObject: (o: Json) => void, signal: AbortSignal): Promise<void> {
    const r = await fetch(path, { headers: this.headers(), signal, credentials: 'omit', cache: 'no-store' });
    if (!r.ok || !r.body) {
      if (r.status === 401) this.onUnauthorized();
      let message = `HTTP ${r.status}`;
      try {
        message = (JSON.parse(await r.text()) as { message?: string }).message ?? message;
      } catch { /* not a Status */ }
      throw new ApiError(r.status, message);
    }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) onObject(JSON.parse(line));
      }
    }
  }

  /**
   * A watch from `resourceVersion`: newline-delimited events read from the response stream (fetch,
   * not EventSource or WebSocket, which cannot carry the Authorization header). Resolves when the
   * server ends the watch (its timeout) or the signal aborts; rejects with status 410 when the
   * version is too old.
   */
  async watch<T>(path: string, resourceVersion: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<string> {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    const r = await fetch(url, { headers: this.headers(), signal, credentials: 'omit', cache: 'no-store' });
    if (!r.ok || !r.body) {
      if (r.status === 401) this.onUnauthorized();
      throw new ApiError(r.status, `watch ${path}: HTTP ${r.status}`);
    }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let rv = resourceVersion;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return rv;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const e = JSON.parse(line) as WatchEvent<T & KObject>;
        if (e.type === 'ERROR') {
          const status = (e.object as unknown as { code?: number }).code ?? 500;
          throw new ApiError(status, `watch ${path}: ${(e.object as unknown as { message?: string }).message ?? 'error'}`);
        }
        rv = e.object.metadata.resourceVersion ?? rv;
        if (e.type !== 'BOOKMARK') onEvent(e);
      }
    }
  }
}
