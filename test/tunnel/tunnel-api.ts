/**
 * The API handler on a loopback HTTPS server (like test/helpers/in-process-api.ts) with a
 * NodeTunnel passed in, so kubectl's logs/exec/attach/port-forward reach an agent-side handler.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log.ts';
import type { Logger } from '../../src/common/log.ts';
import type { NodeTunnel } from '../../src/common/tunnel.ts';
import type { Authorizer } from '../../src/server/auth/types.ts';
import { createApiHandler } from '../../src/server/api/index.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import { allowAll, TEST_TOKEN, tokenAuthenticator } from '../helpers/in-process-api.ts';
import type { KubectlTarget } from '../helpers/kubectl.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TunnelApi extends KubectlTarget {
  readonly url: string;
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<Reply>;
  close(): Promise<void>;
}

export async function startTunnelApi(tunnel: NodeTunnel | undefined, opts: { log?: Logger; authorizer?: Authorizer } = {}): Promise<TunnelApi> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-tunnel-api-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const caPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const store = await openSqliteStore({ file: ':memory:', log: silentLogger(), progressIntervalMs: 1000 });
  const api = createApiHandler({ store, authenticator: tokenAuthenticator, authorizer: opts.authorizer ?? allowAll, log: opts.log ?? silentLogger(), ...(tunnel ? { nodeTunnel: tunnel } : {}) });
  await api.ready;
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: caPem }, (req, res) => api.handleRequest(req, res));
  // Like src/server/server.ts: upgraded sockets (exec, attach, port-forward) are the server's to
  // end at shutdown; server.close() alone would wait for every one of them to close by itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    api.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:', `    server: ${url}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'users:', '- name: admin', '  user:', `    token: ${TEST_TOKEN}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: admin', 'current-context: test', '',
  ].join('\n'));
  return {
    url, kubeconfig, cacheDir: join(dir, 'cache'),
    request: (method, path, o = {}) => new Promise((resolve, reject) => {
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
