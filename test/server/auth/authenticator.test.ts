// Authentication over a real TLS listener with real certificates and a real (in-memory SQLite) store.
import { Agent, request } from 'node:https';
import type { Server } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { createAuthenticator, createToken } from '../../../src/server/auth/index.ts';
import type { AuthenticationResult } from '../../../src/server/auth/index.ts';
import { ensurePki, servingSans } from '../../../src/server/pki/index.ts';
import type { Pki } from '../../../src/server/pki/index.ts';
import { createHttpsServer, listen } from '../../../src/server/https-listener.ts';
import * as x509 from '../../../src/server/pki/x509.ts';

let tmp: string;
let store: Store;
let pki: Pki;
let otherPki: Pki;
let server: Server;
let port: number;
let clock = Date.now();

interface ClientCreds {
  cert?: string;
  key?: string;
  token?: string;
  authorization?: string;
}

function identify(creds: ClientCreds, agent: Agent | false = false, reused?: boolean[]): Promise<AuthenticationResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (creds.token) headers.authorization = `Bearer ${creds.token}`;
    if (creds.authorization) headers.authorization = creds.authorization;
    const req = request(
      { host: '127.0.0.1', port, path: '/', ca: pki.caCertPem, cert: creds.cert, key: creds.key, headers, agent },
      (res) => {
        reused?.push(req.reusedSocket);
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as AuthenticationResult));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edgeos-authn-'));
  const sans = servingSans({ hostname: 'h', tlsSans: [] });
  pki = await ensurePki({ dir: join(tmp, 'tls'), servingSans: sans, log: silentLogger() });
  otherPki = await ensurePki({ dir: join(tmp, 'other'), servingSans: sans, log: silentLogger() });
  store = await openSqliteStore({ file: ':memory:' });
  const authn = createAuthenticator({ store, log: silentLogger(), now: () => new Date(clock) });
  server = createHttpsServer({
    host: '127.0.0.1',
    port: 0,
    certPem: pki.servingCertPem,
    keyPem: pki.servingKeyPem,
    clientCaPem: pki.caCertPem,
    onRequest: (req, res) => {
      void authn.identify(req).then((r) => res.end(JSON.stringify(r)));
    },
  });
  await listen(server, '127.0.0.1', 0);
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('client certificates', () => {
  it('maps CN to the user and O to groups, adding system:authenticated', async () => {
    expect(await identify({ cert: pki.adminCertPem, key: pki.adminKeyPem })).toEqual({
      kind: 'user',
      user: { name: 'admin', groups: ['system:masters', 'system:authenticated'] },
    });
  });

  it('authenticates a node certificate issued from a CSR', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys, signingAlgorithm: alg });
    const cert = await pki.signNodeCsr(csr.toString('pem'), 'gw-7');
    const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const key = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
    expect(await identify({ cert, key })).toEqual({
      kind: 'user',
      user: { name: 'system:node:gw-7', groups: ['system:nodes', 'system:authenticated'] },
    });
  });

  it('rejects a certificate from another CA', async () => {
    const r = await identify({ cert: otherPki.adminCertPem, key: otherPki.adminKeyPem });
    expect(r.kind).toBe('rejected');
  });

  it('rejects a certificate of our CA that is not for client authentication', async () => {
    const r = await identify({ cert: pki.servingCertPem, key: pki.servingKeyPem });
    expect(r.kind).toBe('rejected');
  });

  it('keeps each connection\'s verdict for its later requests, and bearer tokens still count', async () => {
    for (const [creds, kind] of [[{ cert: pki.adminCertPem, key: pki.adminKeyPem }, 'user'], [{ cert: otherPki.adminCertPem, key: otherPki.adminKeyPem }, 'rejected']] as const) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.caCertPem, cert: creds.cert, key: creds.key });
      const reused: boolean[] = [];
      try {
        const results = [];
        for (let i = 0; i < 3; i++) results.push(await identify(creds, agent, reused));
        expect(reused).toEqual([false, true, true]);
        expect(results.map((r) => r.kind)).toEqual([kind, kind, kind]);
        expect(results[2]).toEqual(results[0]);
      } finally {
        agent.destroy();
      }
    }
    // A connection without a certificate: anonymous each time, tokens decide per request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.caCertPem });
    try {
      const { token } = await createToken(store, { user: 'per-request' });
      expect(await identify({}, agent)).toEqual({ kind: 'anonymous' });
      expect(await identify({ token }, agent)).toEqual({ kind: 'user', user: { name: 'per-request', groups: ['system:authenticated'] } });
      expect(await identify({}, agent)).toEqual({ kind: 'anonymous' });
    } finally {
      agent.destroy();
    }
  });

  it('treats a request without credentials as anonymous', async () => {
    expect(await identify({})).toEqual({ kind: 'anonymous' });
    expect(await identify({ authorization: 'Basic YWRtaW46YWRtaW4=' })).toEqual({ kind: 'anonymous' });
  });
});

describe('bearer tokens', () => {
  it('authenticates a stored token and keeps only its hash in the store', async () => {
    const { token, record } = await createToken(store, { user: 'ci-bot', groups: ['ci'], description: 'pipeline' });
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{32}$/);
    const stored = (await store.get(`/registry/edgeos.io/tokens/${record.id}`))!.value.toString();
    expect(stored).not.toContain(token.split('.')[1]);
    expect(JSON.parse(stored).secretHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await identify({ token })).toEqual({ kind: 'user', user: { name: 'ci-bot', groups: ['ci', 'system:authenticated'] } });
  });

  it('rejects unknown, malformed and wrong-secret tokens', async () => {
    const { token } = await createToken(store, { user: 'u' });
    const [id] = token.split('.');
    expect((await identify({ token: `${id}.${'a'.repeat(32)}` })).kind).toBe('rejected');
    expect((await identify({ token: 'abcdef.0123456789abcdef0123456789abcdef' })).kind).toBe('rejected');
    expect((await identify({ token: 'not-a-token' })).kind).toBe('rejected');
  });

  it('rejects an expired token', async () => {
    const { token } = await createToken(store, { user: 'short', ttlSeconds: 60 }, new Date(clock));
    expect((await identify({ token })).kind).toBe('user');
    clock += 61_000;
    try {
      expect((await identify({ token })).kind).toBe('rejected');
    } finally {
      clock -= 61_000;
    }
  });

  it('lets a valid client certificate win over a bad token', async () => {
    const r = await identify({ cert: pki.adminCertPem, key: pki.adminKeyPem, token: 'bad' });
    expect(r.kind).toBe('user');
  });
});
