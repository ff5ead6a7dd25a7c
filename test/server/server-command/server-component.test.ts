// The server component in-process: the API mount point, readiness, upgrades and shutdown. The
// mounted handler here is a minimal stand-in for src/server/api (which has its own tests); what is
// under test is how the server hands requests to whatever is mounted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { createEdgeosServer, resolveServerConfig } from '../../../src/server/index.ts';
import type { ApiHandlerDeps, ControllerDeps, EdgeosServer, LocalAgentLifecycle, ServerDeps } from '../../../src/server/index.ts';
import { createKubeClient } from '../../../src/server/controllers/client/kube-client.ts';

let tmp: string;
let server: EdgeosServer | undefined;
let store: Store | undefined;
let mounted: ApiHandlerDeps | undefined;
const upgrades: string[] = [];
const closed: string[] = [];
const failures: Error[] = [];
let apiReady: Promise<void> = Promise.resolve();

function config() {
  return resolveServerConfig(
    { dataDir: join(tmp, 'data'), bindAddress: '127.0.0.1', httpsListenPort: '1', writeKubeconfig: join(tmp, 'kc.yaml') },
    {},
  );
}

async function startServer(
  withApi: boolean,
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void,
  clients: Pick<ServerDeps, 'startControllers' | 'startLocalAgent'> = {},
): Promise<EdgeosServer> {
  // Port 0 is not a valid flag value; the component takes the resolved config, so give it one.
  const cfg = { ...config(), httpsListenPort: 0 };
  const s = createEdgeosServer({
    ...clients,
    config: cfg,
    log: silentLogger(),
    build: { version: '0.0.0-test', commit: 'abc123' },
    openStore: async (o) => (store = await openSqliteStore({ file: o.file })),
    onFailure: (err) => failures.push(err),
    ...(withApi
      ? {
          mountApi: (deps: ApiHandlerDeps) => {
            mounted = deps;
            return {
              ready: apiReady,
              close: async () => void closed.push('api'),
              handleRequest: onRequest ?? ((_req, res) => res.writeHead(418).end('api')),
              handleUpgrade: (req: IncomingMessage, socket: Duplex) => {
                upgrades.push(req.url ?? '');
                socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
              },
            };
          },
        }
      : {}),
  });
  server = s;
  await s.start(new AbortController().signal);
  return s;
}

function get(path: string, auth = true): Promise<{ status: number; body: string }> {
  const pki = server!.pki!;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server!.address!.port,
        path,
        ca: pki.caCertPem,
        ...(auth ? { cert: pki.adminCertPem, key: pki.adminKeyPem } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'edgeos-component-'));
  mounted = undefined;
  upgrades.length = 0;
  closed.length = 0;
  failures.length = 0;
  apiReady = Promise.resolve();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  rmSync(tmp, { recursive: true, force: true });
});

describe('server component', () => {
  it('is not ready without an API, and says which check fails', async () => {
    const s = await startServer(false);
    const r = await get('/readyz');
    expect(r.status).toBe(500);
    expect(r.body).toContain('[+]store ok');
    expect(r.body).toContain('[-]api failed: reason withheld');
    expect((await get('/livez')).status).toBe(200);
    expect(await get('/api')).toMatchObject({ status: 404 });
    expect(await get('/api', false)).toMatchObject({ status: 401 });
    let ready = false;
    void s.ready.then(() => (ready = true));
    await new Promise((r) => setImmediate(r));
    expect(ready).toBe(false);
  });

  it('mounts the API with the store, authenticator and authorizer, and is ready once the API is', async () => {
    let apiBootstrapped!: () => void;
    apiReady = new Promise((r) => (apiBootstrapped = r));
    const s = await startServer(true);
    const starting = await get('/readyz');
    expect(starting.status).toBe(500);
    expect(starting.body).toContain('[-]api failed');
    apiBootstrapped();
    await s.ready;
    // The API gets the opened store behind the metrics' instrumentation: what it writes is the store's.
    const written = await mounted!.store.create('/registry/configmaps/default/through-the-api', Buffer.from('{}'));
    expect((await store!.get('/registry/configmaps/default/through-the-api'))?.modRevision).toBe(written.modRevision);
    expect((await get('/readyz')).body).toBe('ok');
    expect(await get('/api/v1/pods')).toEqual({ status: 418, body: 'api' });
    // The public paths stay with the server.
    expect(JSON.parse((await get('/version')).body)).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0-edgeos+abc123' });
  });

  it('gives the mounted API working auth components', async () => {
    await startServer(true, (req, res) => {
      void (async () => {
        const user = await mounted!.authenticator.authenticate(req);
        const decision = user
          ? await mounted!.authorizer.authorize({
              user, verb: 'list', resourceRequest: true, path: '/api/v1/pods', apiGroup: '', apiVersion: 'v1',
              resource: 'pods', subresource: '', namespace: '', name: '',
            })
          : undefined;
        res.end(JSON.stringify({ user: user?.name, allowed: decision?.allowed }));
      })();
    });
    expect(JSON.parse((await get('/api/v1/pods')).body)).toEqual({ user: 'admin', allowed: true });
    expect(JSON.parse((await get('/api/v1/pods', false)).body)).toEqual({});
  });

  it('reports an API that fails to start as a failure of the server', async () => {
    apiReady = Promise.reject(new Error('bootstrap exploded'));
    apiReady.catch(() => undefined); // the server attaches its handler only after start-up
    await startServer(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(failures.map((e) => e.message)).toEqual(['the API failed to start: bootstrap exploded']);
    expect((await get('/readyz')).status).toBe(500);
  });

  it('starts controllers and the local agent once the API is ready, and stops them first, in reverse', async () => {
    const events: string[] = [];
    let bootstrapped!: () => void;
    apiReady = new Promise((r) => (bootstrapped = r));
    let agentLifecycle: LocalAgentLifecycle | undefined;
    const s = await startServer(true, undefined, {
      startControllers: () => ({
        start: async () => void events.push('start controllers'),
        stop: async () => void events.push('stop controllers'),
      }),
      startLocalAgent: async (_ctx, lifecycle) => {
        agentLifecycle = lifecycle;
        events.push('start local-agent');
        return { stop: async () => void events.push(`stop local-agent (store open: ${await store!.get('/x').then(() => true, () => false)})`) };
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([]); // the API is still bootstrapping
    bootstrapped();
    await s.ready;
    for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['start controllers', 'start local-agent']);

    // A failure of the local agent reaches the server's owner, which stops everything in order.
    agentLifecycle!.onFailure(new Error('containerd cannot be kept up'));
    expect(failures.map((e) => e.message)).toEqual(['containerd cannot be kept up']);
    await s.stop();
    expect(events.slice(2)).toEqual(['stop local-agent (store open: true)', 'stop controllers']);
    expect(closed).toEqual(['api']);
    expect(agentLifecycle!.signal.aborted).toBe(true);
    await expect(store!.get('/x')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('gives the controllers an in-process connection to the API: their requests and watches reach it without TLS or TCP, with their token', async () => {
    const seen: { url: string; authorization: string | undefined; tcp: boolean; encrypted: boolean }[] = [];
    let deps: ControllerDeps | undefined;
    const s = await startServer(
      true,
      (req, res) => {
        seen.push({ url: req.url ?? '', authorization: req.headers.authorization, tcp: req.socket instanceof Socket, encrypted: Boolean((req.socket as { encrypted?: boolean }).encrypted) });
        if (req.url?.includes('watch=true')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(`${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default', resourceVersion: '7' } } })}\n`);
          res.end(`${JSON.stringify({ type: 'MODIFIED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default', resourceVersion: '8' } } })}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default', resourceVersion: '7' } }));
      },
      { startControllers: (d) => ((deps = d), { start: async () => undefined, stop: async () => undefined }) },
    );
    await s.ready;
    for (let i = 0; i < 100 && !deps; i++) await new Promise((r) => setTimeout(r, 10));
    expect(deps?.connect).toBeTypeOf('function');
    let connections = 0;
    const client = createKubeClient({ url: deps!.url, caPem: deps!.caPem, token: deps!.token, connect: () => (connections++, deps!.connect!()) });
    try {
      const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
            for (let i = 0; i < 5; i++) expect((await client.get(ref, 'a')).metadata.resourceVersion).toBe('7');
      const events: string[] = [];
      for await (const ev of client.watch(ref, { resourceVersion: '6', signal: new AbortController().signal })) events.push(`${ev.type} ${ev.object.metadata.resourceVersion}`);
      expect(events).toEqual(['ADDED 7', 'MODIFIED 8']);
      // Kept alive and used again: 6 requests on at most 3 connections (undici opens a second
      // request connection while the first is finishing its answer; one is the watch's).
      expect(connections).toBeLessThanOrEqual(3);
    } finally {
      await client.close();
    }
    expect(seen.map((r) => r.url)).toEqual([...Array<string>(5).fill('/api/v1/namespaces/default/configmaps/a'), '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=6']);
    expect(seen.every((r) => !r.tcp && !r.encrypted && r.authorization === `Bearer ${deps!.token}`)).toBe(true);
  });

  it('hands connection upgrades to the API', async () => {
    const s = await startServer(true);
    const pki = s.pki!;
    const head = await new Promise<string>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: s.address!.port, ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem, servername: 'localhost' }, () => {
        sock.write('GET /api/v1/namespaces/default/pods/p/exec?command=ls HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      });
      let data = '';
      sock.on('data', (c: Buffer) => (data += c.toString()));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1.1 101 /);
    expect(upgrades).toEqual(['/api/v1/namespaces/default/pods/p/exec?command=ls']);
  });

  it('stops promptly while a response streams forever, and closes the store', async () => {
    const s = await startServer(true, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"type":"ADDED"}\n'); // a watch that never ends by itself
    });
    const pki = s.pki!;
    const streamEnded = new Promise<void>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: s.address!.port, path: '/api/v1/pods?watch=true', ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem, agent: false },
        (res) => {
          res.on('data', () => undefined);
          res.on('close', () => resolve());
          res.on('error', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await s.stop();
    await streamEnded;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(closed).toEqual(['api']);
    await expect(store!.get('/x')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});

describe('certificate renewal while running', () => {
  it('swaps in a renewed serving certificate and rewrites the kubeconfig without a restart', async () => {
    const day = 24 * 60 * 60 * 1000;
    let clock = Date.now() - 300 * day;
    const s = createEdgeosServer({
      config: { ...config(), httpsListenPort: 0 },
      log: silentLogger(),
      build: { version: '0.0.0-test', commit: 'abc123' },
      openStore: async (o) => (store = await openSqliteStore({ file: o.file })),
      onFailure: (err) => failures.push(err),
      now: () => new Date(clock),
      rotationIntervalMs: 50,
    });
    server = s;
    await s.start(new AbortController().signal);
    const servedValidTo = () =>
      new Promise<string>((resolve, reject) => {
        const sock = connect({ host: '127.0.0.1', port: s.address!.port, ca: s.pki!.caCertPem, servername: 'localhost' }, () => {
          resolve(sock.getPeerCertificate().valid_to);
          sock.destroy();
        });
        sock.on('error', reject);
      });
    const kubeconfig = () => readFileSync(join(tmp, 'kc.yaml'), 'utf8');
    const before = await servedValidTo();
    const kubeconfigBefore = kubeconfig();
    await new Promise((r) => setTimeout(r, 200));
    expect(await servedValidTo()).toBe(before); // nothing is due at the old clock

    clock = Date.now(); // now the leaves expire within 90 days
    const deadline = Date.now() + 10_000;
    while ((await servedValidTo()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const after = await servedValidTo();
    expect(new Date(after).getTime()).toBeGreaterThan(new Date(before).getTime() + 200 * day);
    expect(kubeconfig()).not.toBe(kubeconfigBefore);
    expect(failures).toEqual([]);
  });
});
