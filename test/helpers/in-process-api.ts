/**
 * The API handler served in-process on a plain Node HTTPS server with a self-signed certificate,
 * a bearer-token authenticator and an allow-all authorizer. For API unit-level tests that need
 * HTTP but not the whole `edgeos server` (the kubectl integration tests use start-server.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log.ts';
import type { Logger } from '../../src/common/log.ts';
import type { Authenticator, Authorizer } from '../../src/server/auth/types.ts';
import { createApiHandler } from '../../src/server/api/index.ts';
import type { ApiHandler } from '../../src/server/api/index.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { SqliteStore } from '../../src/store/index.ts';
import type { KubectlTarget } from './kubectl.ts';
import type { Duplex } from 'node:stream';

export const TEST_TOKEN = 'edgeos-test-admin-token';

export interface InProcessApi extends KubectlTarget {
  readonly url: string;
  readonly dir: string;
  readonly store: SqliteStore;
  readonly api: ApiHandler;
  readonly caPem: string;
  /** fetch-like helper: request a path with the admin token. */
  request(method: string, path: string, opts?: { body?: string | Buffer; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  close(): Promise<void>;
}

export const tokenAuthenticator: Authenticator = {
  async authenticate(req) {
    return req.headers.authorization === `Bearer ${TEST_TOKEN}` ? { name: 'test-admin', groups: ['system:masters', 'system:authenticated'] } : undefined;
  },
};

export const allowAll: Authorizer = {
  authorize: async () => ({ allowed: true, reason: '' }),
  rulesFor: async () => ({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [], incomplete: false, errors: [] }),
};

export async function startInProcessApi(opts: { log?: Logger; authorizer?: Authorizer; storeFile?: string } = {}): Promise<InProcessApi> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-api-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const caPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const store = await openSqliteStore({ file: opts.storeFile ?? ':memory:', log: silentLogger(), progressIntervalMs: 1000 });
  const api = createApiHandler({ store, authenticator: tokenAuthenticator, authorizer: opts.authorizer ?? allowAll, log: opts.log ?? silentLogger() });
  await api.ready;
  const server: Server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: caPem }, (req, res) => api.handleRequest(req, res));
  // Like src/server/server.ts: upgraded sockets are the server's to end at shutdown.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    api.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:', `    server: ${url}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'users:', '- name: admin', '  user:', `    token: ${TEST_TOKEN}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: admin', 'current-context: test', '',
  ].join('\n'));
  const { request } = await import('node:https');
  return {
    url, dir, store, api, caPem, kubeconfig, cacheDir: join(dir, 'cache'),
    request: (method, path, o = {}) =>
      new Promise((resolve, reject) => {
        // An explicit length: Node does not chunk DELETE bodies on its own.
        const length = o.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(o.body)) };
        const req = request(`${url}${path}`, { method, ca: caPem, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...length, ...(o.headers ?? {}) } }, (res) => {
          let body = '';
          res.on('data', (b: Buffer) => (body += b.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end(o.body);
      }),
    close: async () => {
      await api.close();
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
