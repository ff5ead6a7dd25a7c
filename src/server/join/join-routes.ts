/**
 * The join endpoints (src/common/link/join-api.ts) in front of the Kubernetes API. A joining
 * device proves it holds a bootstrap token; the server then issues the node's client certificate
 * for the device's public key and registers its Node. A node name that is already registered is
 * refused: a second device cannot take over a node's identity with another token.
 *
 * Joins go through a gate (a join storm: a thousand devices given the same token at once): a few
 * are served at a time, the rest wait in arrival order, and past the gate's queue bound a join is
 * answered 503 with a Retry-After spread over the time the queue needs to drain — before the
 * server did anything, so the device sends the same request again then (src/agent/join/join.ts).
 * /cacerts and join-info are answered from memory, never queued.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { CACERTS_PATH, JOIN_INFO_PATH, JOIN_PATH } from '../../common/link/join-api.ts';
import type { JoinRequest } from '../../common/link/join-api.ts';
import type { NodeRegistration } from '../../common/link/protocol.ts';
import type { Store } from '../../store/types.ts';
import { bearerToken } from '../auth/token-authenticator.ts';
import { StartGate } from '../link/start-gate.ts';
import { PkiError } from '../pki/errors.ts';
import { ResourceRegistry, objectKey } from '../registry/index.ts';
import { decodeStored } from '../storage/objects.ts';
import { checkBootstrapToken } from './bootstrap-token-check.ts';

export interface JoinRoutesOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly caPem: () => string;
  readonly servers: () => readonly string[];
  readonly signNodeCsr: (csrPem: string, nodeName: string) => Promise<string>;
  /** Creates the Node; 'exists' when a Node of that name is already registered. */
  readonly registerNode: (node: string, reg: NodeRegistration) => Promise<'created' | 'exists'>;
  readonly now?: () => Date;
  /** Joins served at once and the queue bound (default 8 and 128: tests make them small). */
  readonly gate?: { readonly concurrency: number; readonly maxWaiting: number };
}

export interface JoinRoutes {
  matches(url: URL): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const MAX_BODY = 64 * 1024;
/**
 * The SHA-256 of the public key a Node was joined with (hex of its SPKI DER). A join whose answer
 * was lost (a timeout in a join storm, a flaky uplink) is sent again by the device with the same
 * key: the same key gets its certificate again; any other key is refused as before.
 */
export const JOIN_KEY_ANNOTATION = 'edgeos.io/join-key-sha256';
const nodes = new ResourceRegistry().resolve('', 'v1', 'nodes')!;
const nodeNameRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function status(res: ServerResponse, code: number, reason: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('the request body is too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('the request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function validRequest(v: unknown): v is JoinRequest {
  const r = v as Partial<JoinRequest> | undefined;
  return (
    !!r &&
    typeof r.nodeName === 'string' &&
    typeof r.csr === 'string' &&
    !!r.labels &&
    typeof r.labels === 'object' &&
    Object.values(r.labels).every((x) => typeof x === 'string') &&
    Array.isArray(r.taints) &&
    r.taints.every((t) => t && typeof t.key === 'string' && typeof t.effect === 'string')
  );
}

export function createJoinRoutes(o: JoinRoutesOptions): JoinRoutes {
  const log = o.log.child({ component: 'join' });
  const now = o.now ?? (() => new Date());
  const gate = new StartGate(o.gate ?? { concurrency: 8, maxWaiting: 128 });

  async function gatedJoin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const retryAfter = gate.retryAfterSeconds();
    if (retryAfter !== undefined) {
      req.resume();
      return status(res, 503, 'ServiceUnavailable', `${gate.waiting} joins are waiting: try again in ${retryAfter} s`, { 'Retry-After': String(retryAfter) });
    }
    return gate.run(() => join(req, res));
  }

  async function join(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = await checkBootstrapToken(o.store, bearerToken(req), now());
    if (!verdict.ok) {
      log.info({ remote: req.socket.remoteAddress, why: verdict.message }, 'join refused');
      return status(res, 401, 'Unauthorized', verdict.message);
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      return status(res, 400, 'BadRequest', errorMessage(err));
    }
    if (!validRequest(body)) return status(res, 400, 'BadRequest', 'the join request needs nodeName, csr, labels and taints');
    const node = body.nodeName;
    if (node.length > 253 || !nodeNameRe.test(node)) return status(res, 400, 'BadRequest', `node name ${JSON.stringify(node)} is not a lowercase DNS-1123 subdomain`);
    let certificate: string;
    try {
      certificate = await o.signNodeCsr(body.csr, node);
    } catch (err) {
      if (err instanceof PkiError) return status(res, 400, 'BadRequest', err.message);
      throw err;
    }
    // The certificate leaves the server only once the Node is ours to register — or was registered
    // for this very key (the device sends its join again: the answer to the first was lost).
    const keyHash = createHash('sha256').update(new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    // The key the Node of that name was joined with ('' for a Node registered otherwise), or undefined: no such Node.
    const joinKeyOfNode = async () => {
      const kv = await o.store.get(objectKey(nodes, '', node));
      return kv ? ((decodeStored(nodes, kv).metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[JOIN_KEY_ANNOTATION] ?? '') : undefined;
    };
    let joinedWith = await joinKeyOfNode();
    // Registered meanwhile (the same join sent twice at once): read whose it is.
    if (joinedWith === undefined && (await o.registerNode(node, { labels: body.labels, taints: body.taints, annotations: { [JOIN_KEY_ANNOTATION]: keyHash } })) === 'exists') joinedWith = await joinKeyOfNode() ?? '';
    if (joinedWith === keyHash) {
      log.info({ node, tokenId: verdict.id, remote: req.socket.remoteAddress }, 'node joined again with the key it joined with (its first answer was lost)');
    } else if (joinedWith !== undefined) {
      log.warn({ node, tokenId: verdict.id, remote: req.socket.remoteAddress }, 'join refused: the node name is taken');
      return status(res, 409, 'AlreadyExists', `node "${node}" is already joined; pick another --node-name, or remove the old node with \`kubectl delete node ${node}\` first`);
    }
    log.info({ node, tokenId: verdict.id, remote: req.socket.remoteAddress }, 'node joined');
    res.writeHead(201, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ certificate }));
  }

  return {
    matches: (url) => url.pathname === CACERTS_PATH || url.pathname === JOIN_INFO_PATH || url.pathname === JOIN_PATH,
    async handle(req, res) {
      const path = new URL(req.url ?? '/', 'https://localhost').pathname;
      const method = req.method ?? 'GET';
      if (path === JOIN_PATH) {
        if (method !== 'POST') return status(res, 405, 'MethodNotAllowed', 'use POST');
        return gatedJoin(req, res);
      }
      if (method !== 'GET' && method !== 'HEAD') return status(res, 405, 'MethodNotAllowed', 'use GET');
      if (path === CACERTS_PATH) {
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Cache-Control': 'no-cache' });
        res.end(method === 'HEAD' ? undefined : o.caPem());
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : JSON.stringify({ servers: o.servers() }));
    },
  };
}
