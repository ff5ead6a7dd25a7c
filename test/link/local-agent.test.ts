// The local agent of `edgeos server` links through the server's in-process transport: no TCP
// connection and no TLS reach the listener for its link or its writes, yet its writes still act as
// its node (system:node:<name>) and the Node authorizer still refuses what that node may not do.
// The server runs in this process (as `edgeos server` does), its local agent without a runtime.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.ts';
import { startLocalAgent } from '../../src/agent/join/local-agent.ts';
import { LinkError, LinkErrorCode } from '../../src/common/link/errors.ts';
import type { EdgeosServer } from '../../src/server/index.ts';
import { startInProcessServer, testLog, waitFor } from './harness.ts';
import type { ApiJson } from './harness.ts';

const NODE = 'local-1';
let dir: string;
let port: number;
let server: EdgeosServer;
let agent: Agent | undefined;
const stop = new AbortController();

/** TCP connections the listener accepted, and the requests it served with whether they came over TLS. */
const accepted: unknown[] = [];
const served: { userAgent: string; path: string; tls: boolean }[] = [];
const onSocket = (m: unknown) => accepted.push(m);
const onRequest = (m: unknown) => {
  const req = (m as { request: IncomingMessage }).request;
  served.push({ userAgent: String(req.headers['user-agent']), path: req.url ?? '', tls: Boolean((req.socket as { encrypted?: boolean }).encrypted) });
};

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiJson }> {
  const kc = parse(readFileSync(join(dir, 'kc.yaml'), 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `https://127.0.0.1:${port}${path}`,
      {
        method,
        ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
        cert: dec(kc.users[0]?.user['client-certificate-data']),
        key: dec(kc.users[0]?.user['client-key-data']),
        headers: text ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let data = '';
        res.on('data', (b: Buffer) => (data += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

beforeAll(async () => {
  subscribe('net.server.socket', onSocket);
  subscribe('http.server.request.start', onRequest);
  dir = mkdtempSync(join(tmpdir(), 'edgeos-local-agent-'));
  const dataDir = join(dir, 'data');
  let started!: (a: Agent) => void;
  const agentStarted = new Promise<Agent>((r) => (started = r));
  ({ server, port } = await startInProcessServer(dir, stop.signal, {
    startLocalAgent: async (ctx) => {
      const a = await startLocalAgent(ctx, {
        dataDir,
        log: testLog,
        signal: stop.signal,
        nodeName: NODE,
        runtime: false,
        leaseIntervalMs: 300,
        onFailure: (err) => {
          throw err;
        },
      });
      started(a);
      return a;
    },
  }));
  agent = await agentStarted;
  await agent.ready;
}, 60_000);

afterAll(async () => {
  unsubscribe('net.server.socket', onSocket);
  unsubscribe('http.server.request.start', onRequest);
  stop.abort();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local agent over the in-process link', () => {
  it('registers its Node and renews its Lease without a connection to the listener', async () => {
    const link = agent!.link!;
    await waitFor('two lease renewals', () => (link.stats.leaseRenewals >= 2 ? true : undefined), 10_000, 50);
    expect(link.connected).toBe(true);
    // Link, registration and Lease writes so far: not one TCP connection, not one TLS request.
    expect(accepted).toEqual([]);
    const agentRequests = served.filter((r) => r.userAgent === `edgeos-agent/${NODE}`);
    expect(agentRequests.map((r) => r.path)).toContain(`/api/v1/nodes/${NODE}`);
    expect(agentRequests.some((r) => r.path.includes('/leases/'))).toBe(true);
    expect(agentRequests.filter((r) => r.tls)).toEqual([]);

    const node = await admin('GET', `/api/v1/nodes/${NODE}`);
    expect(node.status).toBe(200);
    expect(node.body.metadata.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': 'true', 'kubernetes.io/hostname': NODE });
    const lease = await admin('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE}`);
    expect(lease.body.spec.holderIdentity).toBe(NODE);
    // The writes were made as the node: managedFields name the agent as their manager.
    expect(lease.body.metadata.managedFields.map((f: { manager: string }) => f.manager)).toEqual(['edgeos-agent']);
  });

  it('writes what its node may, and the Node authorizer refuses what it may not', async () => {
    const link = agent!.link!;
    const pod = (name: string, nodeName: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } });
    const mine = (await admin('POST', '/api/v1/namespaces/default/pods', pod('mine', NODE))).body;
    const theirs = (await admin('POST', '/api/v1/namespaces/default/pods', pod('theirs', 'another-node'))).body;

    await link.request({ type: 'pod-status', namespace: 'default', name: 'mine', uid: mine.metadata.uid, status: { phase: 'Running' } });
    expect((await admin('GET', '/api/v1/namespaces/default/pods/mine')).body.status.phase).toBe('Running');

    const refused = await link.request({ type: 'pod-status', namespace: 'default', name: 'theirs', uid: theirs.metadata.uid, status: { phase: 'Failed' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LinkError);
    expect((refused as LinkError).code).toBe(LinkErrorCode.LINK_REFUSED);
    expect((refused as LinkError).message).toMatch(/forbidden: User "system:node:local-1" cannot patch resource "pods\/status".*no relationship found between node 'local-1' and this object/);
    expect((await admin('GET', '/api/v1/namespaces/default/pods/theirs')).body.status?.phase).not.toBe('Failed');

    // Events are any node's to record, as for a kubelet.
    const other = await link.request({ type: 'event', event: { involvedObject: { kind: 'Pod', namespace: 'default', name: 'mine', uid: mine.metadata.uid }, type: 'Normal', reason: 'Tested', message: 'over the in-process link', at: Date.now() } });
    expect(other.error).toBeUndefined();
    expect(served.filter((r) => r.userAgent === `edgeos-agent/${NODE}` && r.tls)).toEqual([]);
  });

  it('answers the server’s stream requests over the same link', async () => {
    // No runtime and no tunnel handler: the agent refuses, and the refusal crosses the link.
    await expect(server.tunnel!.open(NODE, { request: { kind: 'logs', namespace: 'default', name: 'mine', uid: 'u', container: 'c', follow: false, previous: false, timestamps: false } }))
      .rejects.toMatchObject({ code: LinkErrorCode.TUNNEL_FAILED, message: `the agent of node ${NODE} serves no tunnel streams` });
  });
});
