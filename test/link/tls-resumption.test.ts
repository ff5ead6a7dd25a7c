// Reconnects resume the TLS session instead of a full handshake, across a server restart too: the
// server keeps its session-ticket key in the data dir and the agent offers its last ticket. A
// replaced key costs one full handshake. A resumed session is not verified again by OpenSSL, so
// the server checks the client certificate's validity itself: a ticket of a certificate that
// expired meanwhile is refused.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAF_VALIDITY_DAYS, issueLeafCertificate } from '../../src/server/pki/issue.ts';
import { generateKeyPair, pemToKeyPair, privateKeyToPem } from '../../src/server/pki/keys.ts';
import * as x509 from '../../src/server/pki/x509.ts';
import { serverProcess, sleep, startTestAgent, waitFor } from './harness.ts';
import type { ServerProcess, TestAgent } from './harness.ts';

let server: ServerProcess;
let agent: TestAgent;
const tlsDir = () => join(server.dir, 'data', 'server', 'tls');
const keyFile = () => join(tlsDir(), 'session-ticket.key');
const stats = () => agent.agent.link!.stats;

beforeAll(async () => {
  server = await serverProcess();
  agent = await startTestAgent(server.token(), 'resuming', server.dir);
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await server?.dispose();
});

async function restartServer(between: () => void = () => undefined): Promise<void> {
  const before = stats().connects;
  await server.stop();
  between();
  await server.start();
  await waitFor('the agent back', () => (stats().connects > before && agent.agent.link!.connected ? true : undefined), 60_000);
}

describe('TLS session resumption', () => {
  it('resumes the session after a server restart: the ticket key is kept, private, in the data dir', async () => {
    expect(stats().connects).toBe(1);
    expect(stats().tlsResumptions).toBe(0);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile());
    await restartServer();
    expect(stats().tlsResumptions).toBe(1);
    expect(readFileSync(keyFile()).equals(key)).toBe(true);
    // The server counts it too (bench/fleet reads the ratio in its storms).
    const metrics = await server.api('GET', '/metrics');
    const text = typeof metrics.body === 'string' ? metrics.body : JSON.stringify(metrics.body);
    expect(Number(/edgeos_tls_handshakes_total\{resumed="true"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('does one full handshake when the ticket key was replaced', async () => {
    const key = readFileSync(keyFile());
    const resumed = stats().tlsResumptions;
    await restartServer(() => rmSync(keyFile()));
    expect(stats().tlsResumptions).toBe(resumed);
    expect(readFileSync(keyFile()).equals(key)).toBe(false);
  }, 90_000);

  it('refuses a resumed session whose client certificate expired since its first handshake', async () => {
    const ca = { cert: new x509.X509Certificate(readFileSync(join(tlsDir(), 'ca.crt'), 'utf8')), keys: await pemToKeyPair(readFileSync(join(tlsDir(), 'ca.key'), 'utf8')) };
    const keys = await generateKeyPair();
    // Issued "a year ago" so that it expires 10 s from now (room for a loaded machine's first request).
    const notAfter = Date.now() + 10_000;
    const cert = await issueLeafCertificate(ca, { subject: 'CN=short-lived, O=system:masters', publicKey: keys.publicKey, usage: 'client', now: new Date(notAfter - LEAF_VALIDITY_DAYS * 86_400_000) });
    const creds = { ca: readFileSync(join(tlsDir(), 'ca.crt'), 'utf8'), cert: cert.toString('pem'), key: await privateKeyToPem(keys.privateKey) };
    let session: Buffer | undefined;
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        let socket: TLSSocket | undefined;
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: '/api/v1/namespaces/default/pods',
            createConnection: () => {
              socket = connect({ host: '127.0.0.1', port: server.port, servername: '', ...creds, ...(session ? { session } : {}) });
              socket.on('session', (s: Buffer) => (session = s));
              return socket;
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, reused: socket?.isSessionReused() ?? false });
              socket?.destroy();
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
    const fresh = await get();
    expect(fresh).toEqual({ status: 200, reused: false });
    await sleep(Math.max(0, notAfter - Date.now()) + 1500);
    const late = await get();
    expect(late).toEqual({ status: 401, reused: true });
  }, 60_000);
});
