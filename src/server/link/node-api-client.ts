// The link's writes on behalf of a node go through the server's own API over loopback HTTPS,
// authenticated as that node with a client certificate the server issues for itself in memory.
// Every status update, lease renewal and event therefore passes the same authentication, Node
// authorizer, defaulting, validation and managedFields bookkeeping as a kubelet's request would,
// and a link can never do more than its node may.
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { LinkError } from '../../common/link/errors.ts';
import { createNodeKeyAndCsr } from '../../common/link/node-csr.ts';

export interface NodeApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface NodeApiClient {
  request(method: Dispatcher.HttpMethod, path: string, body?: unknown, contentType?: string): Promise<NodeApiResponse>;
  close(): Promise<void>;
}

export interface NodeApiClientOptions {
  /** The server's own listener, e.g. https://127.0.0.1:6443. */
  readonly url: string;
  readonly caPem: string;
  readonly node: string;
  readonly signNodeCsr: (csrPem: string, nodeName: string) => Promise<string>;
}

/** Status message of an error response, for the ack the agent logs. */
function statusMessage(body: unknown, fallback: string): string {
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && m !== '' ? m : fallback;
}

export async function createNodeApiClient(o: NodeApiClientOptions): Promise<NodeApiClient> {
  const { keyPem, csrPem } = await createNodeKeyAndCsr(o.node);
  const certPem = await o.signNodeCsr(csrPem, o.node);
  const pool = new Pool(o.url, { connections: 2, connect: { ca: o.caPem, cert: certPem, key: keyPem }, keepAliveTimeout: 30_000 });
  return {
    async request(method, path, body, contentType = 'application/json') {
      let res: Dispatcher.ResponseData;
      try {
        res = await pool.request({
          method,
          path,
          headers: {
            accept: 'application/json',
            'user-agent': `edgeos-agent/${o.node}`,
            ...(body === undefined ? {} : { 'content-type': contentType }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        throw new LinkError('LINK_REFUSED', `${method} ${path}: ${(err as Error).message}`, { cause: err });
      }
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: res.statusCode, body: parsed };
    },
    close: () => pool.close(),
  };
}

/** Throws LinkError LINK_REFUSED with the API's message unless the status is 2xx. */
export function expectOk(r: NodeApiResponse, what: string): unknown {
  if (r.status >= 200 && r.status < 300) return r.body;
  throw new LinkError('LINK_REFUSED', `${what}: ${statusMessage(r.body, `HTTP ${r.status}`)}`);
}
