/**
 * `edgeos join`: turns a join token into a node identity on this device.
 *
 * 1. Fetch the cluster CA from /cacerts (unauthenticated) and compare its SHA-256 with the token's
 *    caHash. A mismatch stops here: the secret is never sent to a server we cannot verify.
 * 2. Make the node key on the device and a CSR for it.
 * 3. POST the CSR with the bootstrap token over TLS verified by the pinned CA; the server answers
 *    the node client certificate and registers the Node (labels, taints).
 * 4. Only then write anything: the identity goes to a temporary directory that is renamed into
 *    place, so a failure at any step leaves the data dir as it was.
 */
import { randomBytes } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../../common/log.ts';
import { fsyncDirectory } from '../../common/atomic-file.ts';
import { errorMessage } from '../../common/errors.ts';
import { CACERTS_PATH, JOIN_PATH } from '../../common/link/join-api.ts';
import type { JoinRequest, JoinResponse } from '../../common/link/join-api.ts';
import { caHashOf, decodeJoinToken } from '../../common/link/join-token.ts';
import { createNodeKeyAndCsr } from '../../common/link/node-csr.ts';
import type { NodeRegistration } from '../../common/link/protocol.ts';
import { JoinError } from './errors.ts';
import { httpsCall, statusMessage } from './https-call.ts';
import { nodeDir, nodeFiles, writeIdentity } from './node-files.ts';
import type { NodeIdentity } from './node-files.ts';

export interface JoinOptions {
  readonly token: string;
  readonly nodeName: string;
  readonly dataDir: string;
  readonly register: NodeRegistration;
  readonly log: Logger;
  /** How long to keep sending the join again while the server answers busy (503 + Retry-After). */
  readonly busyForMs?: number;
  /** How long a join request waits for its answer before it is sent again (default 30 s). */
  readonly answerTimeoutMs?: number;
  /**
   * The node key and its CSR (default: made now). A caller that tries the whole join again after
   * JOIN_UNREACHABLE passes the same pair each time: the server may have registered the node with
   * it, and answers only that key again (another gets JOIN_NODE_EXISTS).
   */
  readonly keyAndCsr?: { readonly keyPem: string; readonly csrPem: string };
}

/** A join storm: a busy server is waited for this long (its Retry-After each time, plus jitter). */
const BUSY_FOR_MS = 15 * 60_000;
/** Join requests sent without an answer before the join gives up (JOIN_UNREACHABLE). */
const LOST_ANSWERS = 4;

async function fetchPinnedCa(servers: readonly string[], caHash: string, log: Logger): Promise<{ server: string; caPem: string }> {
  const failures: string[] = [];
  for (const server of servers) {
    let pem: string;
    try {
      const r = await httpsCall(new URL(CACERTS_PATH, server).toString(), { method: 'GET' });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      pem = r.body;
    } catch (err) {
      failures.push(`${server}: ${errorMessage(err)}`);
      log.debug({ server, err: errorMessage(err) }, 'server did not answer /cacerts');
      continue;
    }
    let hash: string;
    try {
      hash = caHashOf(pem);
    } catch {
      throw new JoinError('JOIN_CA_MISMATCH', `${server} did not answer a CA certificate at ${CACERTS_PATH}; is it an edgeos server?`);
    }
    if (hash !== caHash) {
      throw new JoinError(
        'JOIN_CA_MISMATCH',
        `the CA of ${server} (${hash}) is not the one the join token names (${caHash}): the token is for another cluster, ` +
          'or something is intercepting the connection. Nothing was sent to the server.',
      );
    }
    return { server, caPem: pem };
  }
  throw new JoinError('JOIN_UNREACHABLE', `no server of the join token answered: ${failures.join('; ')}`);
}

export async function joinCluster(o: JoinOptions): Promise<NodeIdentity> {
  const token = decodeJoinToken(o.token);
  const dir = nodeDir(o.dataDir);
  if (existsSync(nodeFiles(dir).config)) {
    throw new JoinError('JOIN_ALREADY_JOINED', `--data-dir: ${o.dataDir} already holds a joined node; run \`edgeos agent --data-dir ${o.dataDir}\`, or use an empty data dir`);
  }
  const { server, caPem } = await fetchPinnedCa(token.servers, token.caHash, o.log);
  o.log.info({ server, caHash: token.caHash }, 'the server CA matches the join token');

  const { keyPem, csrPem } = o.keyAndCsr ?? (await createNodeKeyAndCsr(o.nodeName));
  const body: JoinRequest = { nodeName: o.nodeName, csr: csrPem, labels: o.register.labels, taints: o.register.taints };
  let r;
  // A 503 with Retry-After comes before the server did anything: sending the same request again is
  // safe. So is sending it again after its answer was lost (a timeout): the server may have joined
  // the node meanwhile, and answers the same key its certificate again (join-routes.ts).
  const since = Date.now();
  for (let lost = 0; ; ) {
    try {
      r = await httpsCall(new URL(JOIN_PATH, server).toString(), {
        method: 'POST',
        caPem,
        headers: { authorization: `Bearer ${token.tokenId}.${token.tokenSecret}` },
        body: JSON.stringify(body),
        timeoutMs: o.answerTimeoutMs ?? 30_000,
      });
    } catch (err) {
      if (++lost >= LOST_ANSWERS) throw new JoinError('JOIN_UNREACHABLE', `cannot send the join request to ${server}: ${errorMessage(err)}`, { cause: err });
      o.log.info({ server, err: errorMessage(err) }, 'the join request got no answer: sending it again');
      await new Promise((done) => setTimeout(done, lost * 1000 * (0.5 + Math.random())));
      continue;
    }
    if (r.retryAfterS === undefined || Date.now() - since > (o.busyForMs ?? BUSY_FOR_MS)) break;
    const waitMs = r.retryAfterS * 1000 + Math.random() * 1000;
    o.log.info({ server, waitMs: Math.round(waitMs) }, 'the server is busy with other joins: trying again');
    await new Promise((done) => setTimeout(done, waitMs));
  }
  if (r.status === 401) throw new JoinError('JOIN_TOKEN_REJECTED', `the server refused the join token: ${statusMessage(r.body)}`);
  if (r.status === 409) throw new JoinError('JOIN_NODE_EXISTS', statusMessage(r.body));
  if (r.status !== 201) throw new JoinError('JOIN_FAILED', `the server refused to join: HTTP ${r.status}: ${statusMessage(r.body)}`);
  const certPem = (JSON.parse(r.body) as JoinResponse).certificate;
  const cert = new X509Certificate(certPem);
  if (!cert.checkIssued(new X509Certificate(caPem)) || !cert.verify(new X509Certificate(caPem).publicKey)) {
    throw new JoinError('JOIN_FAILED', 'the server answered a certificate that the cluster CA did not issue');
  }

  const identity: NodeIdentity = { config: { nodeName: o.nodeName, servers: [server, ...token.servers.filter((s) => s !== server)], register: o.register }, caPem, certPem, keyPem };
  // Commit: build the directory beside its final place, then rename it in.
  const parent = dirname(dir);
  const createdDataDir = !existsSync(o.dataDir);
  const staging = join(parent, `.node-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    writeIdentity(staging, identity);
    renameSync(staging, dir);
    fsyncDirectory(parent);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (createdDataDir) rmSync(o.dataDir, { recursive: true, force: true });
    throw new JoinError('JOIN_FAILED', `--data-dir: cannot write the node identity under ${o.dataDir}: ${errorMessage(err)}`, { cause: err });
  }
  o.log.info({ node: o.nodeName, dir }, 'joined the cluster');
  return identity;
}
