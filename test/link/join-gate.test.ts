// A join storm meets the server's join gate: a few joins are served at once, the next wait in
// order, and past the queue bound a join is answered 503 with a Retry-After before the server did
// anything; the device (the real joinCluster) waits that long and sends it again, and ends up
// joined. /cacerts is answered at once however busy the joins are. A join whose answer was lost
// (the device timed out while the server registered the Node) is sent again and answered again for
// the same key, while any other key is still refused the taken name.
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsCall } from '../../src/agent/join/https-call.ts';
import { joinCluster } from '../../src/agent/join/join.ts';
import { bootstrapSecret } from '../../src/common/link/bootstrap-secret.ts';
import { caHashOf, encodeJoinToken } from '../../src/common/link/join-token.ts';
import { silentLogger } from '../../src/common/log.ts';
import { createJoinRoutes } from '../../src/server/join/index.ts';
import { ensurePki } from '../../src/server/pki/index.ts';
import type { Pki } from '../../src/server/pki/index.ts';
import { ResourceRegistry, objectKey } from '../../src/server/registry/index.ts';
import { decodeStored, encodeForStore } from '../../src/server/storage/objects.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';

let dir: string;
let store: Store;
let pki: Pki;
let server: Server;
let url: string;
let token: string;
const log = silentLogger();
const signing: { node: string; release: () => void }[] = [];
const registered: string[] = [];
/** Joins answered 503 (busy) so far. */
let busyAnswers = 0;
/** When set, signatures are held for the test to release (the gate test). */
let hold = true;
/** This many next signatures take 1.2 s (longer than the device waits for its answer). */
let slowSigns = 0;
const nodesResource = new ResourceRegistry().resolve('', 'v1', 'nodes')!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeos-join-gate-'));
  pki = await ensurePki({ dir: join(dir, 'tls'), servingSans: [{ type: 'ip', value: '127.0.0.1' }], log });
  store = await openSqliteStore({ file: ':memory:', log });
  const secrets = new ResourceRegistry().resolve('', 'v1', 'secrets')!;
  const id = 'abcdef';
  const secret = '0123456789abcdef';
  await store.create(objectKey(secrets, 'kube-system', `bootstrap-token-${id}`), encodeForStore(secrets, bootstrapSecret({ id, secret })));
  const routes = createJoinRoutes({
    store,
    log,
    caPem: () => pki.caCertPem,
    servers: () => [url],
    // Each signature waits for the test to let it go: joins pile up behind the gate.
    signNodeCsr: async (csr, node) => {
      if (hold) await new Promise<void>((release) => signing.push({ node, release }));
      else if (slowSigns > 0 && slowSigns--) await new Promise((r) => setTimeout(r, 1200));
      return pki.signNodeCsr(csr, node);
    },
    registerNode: async (node, reg) => {
      const obj = { apiVersion: 'v1', kind: 'Node', metadata: { name: node, annotations: reg.annotations ?? {} } };
      const created = await store.create(objectKey(nodesResource, '', node), encodeForStore(nodesResource, obj)).then(() => true, () => false);
      if (created) registered.push(node);
      return created ? 'created' : 'exists';
    },
    gate: { concurrency: 1, maxWaiting: 1 },
  });
  server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem }, (req, res) => {
    res.on('finish', () => void (res.statusCode === 503 && busyAnswers++));
    void routes.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  token = encodeJoinToken({ servers: [url], caHash: caHashOf(pki.caCertPem), tokenId: id, tokenSecret: secret });
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, ok: () => boolean) => {
  for (const end = Date.now() + 20_000; !ok(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};

describe('join gate', () => {
  it('queues joins past its bound with 503 + Retry-After; the device waits, sends again and joins', async () => {
    const joinAs = (node: string) => joinCluster({ token, nodeName: node, dataDir: join(dir, node), register: { labels: {}, taints: [] }, log });
    const a = joinAs('node-a');
    await until('node-a signing', () => signing.length === 1);
    const b = joinAs('node-b');
    await new Promise((r) => setTimeout(r, 300)); // node-b waits in the queue (nothing signs it yet)
    expect(signing.map((s) => s.node)).toEqual(['node-a']);

    // The queue is full: a third join is turned away before anything is done for it.
    const busy = await fetch503();
    expect(busy.status).toBe(503);
    expect(Number(busy.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(busy.message).toMatch(/joins are waiting: try again in \d+ s/);
    const cStarted = Date.now();
    const c = joinAs('node-c');

    // /cacerts is answered at once, whatever the joins wait for.
    const t = Date.now();
    const cacerts = await httpsCall(`${url}/cacerts`, { method: 'GET' });
    expect(cacerts.status).toBe(200);
    expect(cacerts.body).toBe(pki.caCertPem);
    expect(Date.now() - t).toBeLessThan(5000);

    // node-c is turned away too before anything is let through (its join comes after its /cacerts).
    await until('node-c turned away', () => busyAnswers >= 2);

    // Let every signature through as it comes: all three devices end up joined.
    const releaser = setInterval(() => signing.shift()?.release(), 20);
    signing.shift()!.release();
    try {
      const ids = await Promise.all([a, b, c]);
      expect(ids.map((i) => i.config.nodeName)).toEqual(['node-a', 'node-b', 'node-c']);
    } finally {
      clearInterval(releaser);
    }
    expect(registered).toEqual(['node-a', 'node-b', 'node-c']);
    // node-c was turned away at least once and waited for the Retry-After (≥ 1 s) before joining.
    expect(Date.now() - cStarted).toBeGreaterThanOrEqual(1000);
  }, 30_000);

  it('a join whose answer was lost is sent again and answered for the same key; another key is refused', async () => {
    hold = false;
    slowSigns = 1; // the first answer comes after the device stopped waiting for it: lost
    const id = await joinCluster({ token, nodeName: 'node-lost', dataDir: join(dir, 'node-lost'), register: { labels: {}, taints: [] }, log, answerTimeoutMs: 800 });
    // Registered once (by the first request, whose answer the device never read), joined by a later one.
    expect(registered.filter((n) => n === 'node-lost')).toEqual(['node-lost']);
    const stored = decodeStored(nodesResource, (await store.get(objectKey(nodesResource, '', 'node-lost')))!) as { metadata: { annotations: Record<string, string> } };
    const keyOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    expect(stored.metadata.annotations['edgeos.io/join-key-sha256']).toBe(keyOf(id.certPem));
    // Another device (another key) with the same token cannot take the name.
    await expect(joinCluster({ token, nodeName: 'node-lost', dataDir: join(dir, 'node-lost-2'), register: { labels: {}, taints: [] }, log })).rejects.toMatchObject({ code: 'JOIN_NODE_EXISTS' });
  }, 30_000);
});

/** A join POST that only reaches the gate (the queue is full: it is refused before its body is read). */
async function fetch503(): Promise<{ status: number; retryAfter: string | undefined; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/edgeos/v1/join`, { method: 'POST', ca: pki.caCertPem, headers: { authorization: 'Bearer abcdef.0123456789abcdef', 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], message: (JSON.parse(body) as { message: string }).message }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}
