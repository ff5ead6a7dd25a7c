// Reports of the kubelet travel over the link: pod status, node status and events land in the
// API as the node's own writes; reports made while the server is down are delivered (latest pod
// status only) after the link returns. The node certificate renews itself over the link.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/agent.ts';
import { startCertRenewal } from '../../src/agent/link/cert-renewal.ts';
import { nodeDir, writeCertificate } from '../../src/agent/join/node-files.ts';
import { serverProcess, startTestAgent, testLog, waitFor } from './harness.ts';
import type { ServerProcess, TestAgent } from './harness.ts';

let server: ServerProcess;
let agent: TestAgent;
let uid: string;

beforeAll(async () => {
  server = await serverProcess();
  const r = await server.api('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'reporter' },
    spec: { nodeName: 'reporting', containers: [{ name: 'c', image: 'busybox' }] },
  });
  expect(r.status).toBe(201);
  uid = r.body.metadata.uid;
  agent = await startTestAgent(server.token(), 'reporting', server.dir, { pingIntervalMs: 1000 });
});

afterAll(async () => {
  await agent?.stop();
  await server?.dispose();
});

const podPhase = async () => (await server.api('GET', '/api/v1/namespaces/default/pods/reporter')).body.status?.phase as string | undefined;

describe('status over the link', () => {
  it('writes pod status, node status and events as the node', async () => {
    const sink = agent.agent.link!.statusSink;
    sink.podStatus({ namespace: 'default', name: 'reporter', uid }, { phase: 'Running', podIP: '10.42.0.7', conditions: [{ type: 'Ready', status: 'True' }] });
    sink.nodeStatus({ conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'edgeos agent is posting ready status', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }] });
    sink.event({ involvedObject: { kind: 'Pod', namespace: 'default', name: 'reporter', uid }, type: 'Normal', reason: 'Started', message: 'Started container c', at: Date.now() });
    await waitFor('pod status', async () => ((await podPhase()) === 'Running' ? true : undefined));
    const node = (await server.api('GET', '/api/v1/nodes/reporting')).body;
    await waitFor('node Ready', async () => {
      const n = (await server.api('GET', '/api/v1/nodes/reporting')).body;
      return (n.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
    expect(node.metadata.name).toBe('reporting');
    const events = await waitFor('the event', async () => {
      const list = (await server.api('GET', '/api/v1/namespaces/default/events')).body.items as { reason: string; source: { component: string; host: string }; metadata: { uid?: string; resourceVersion?: string; managedFields?: { manager: string }[] } }[];
      return list.find((e) => e.reason === 'Started');
    });
    expect(events.source).toEqual({ component: 'kubelet', host: 'reporting' });
    // Written to the store in a batch (event-batch.ts), as the API's create would have written it.
    expect(events.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(events.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(events.metadata.managedFields?.map((f) => f.manager)).toEqual(['edgeos-agent']);
  });

  it('writes an event about the node itself (cluster-scoped: in default, as the kubelet does)', async () => {
    agent.agent.link!.statusSink.event({ involvedObject: { kind: 'Node', namespace: '', name: 'reporting', uid: 'reporting' }, type: 'Warning', reason: 'FailedToProgramService', message: 'the kernel refused the rules of Service shop/x; its previous rules stay: File exists\nadd element …', at: Date.now() });
    const event = await waitFor('the node event', async () => {
      const list = (await server.api('GET', '/api/v1/namespaces/default/events')).body.items as { reason: string; involvedObject: { kind: string; name: string }; type: string }[];
      return list.find((e) => e.reason === 'FailedToProgramService');
    });
    expect([event.involvedObject.kind, event.involvedObject.name, event.type]).toEqual(['Node', 'reporting', 'Warning']);
  });

  it('refuses a status for a pod that is not the node’s (the link is only as mighty as its node)', async () => {
    const other = await server.api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'elsewhere' },
      spec: { nodeName: 'other-node', containers: [{ name: 'c', image: 'busybox' }] },
    });
    const err = await agent.agent.link!.request({ type: 'pod-status', namespace: 'default', name: 'elsewhere', uid: other.body.metadata.uid, status: { phase: 'Failed' } }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/forbidden|cannot|Forbidden/);
    expect((await server.api('GET', '/api/v1/namespaces/default/pods/elsewhere')).body.status?.phase).not.toBe('Failed');
  });

  it('delivers the latest status reported while the server was down', async () => {
    await server.stop('SIGKILL');
    await waitFor('offline', () => (!agent.agent.link!.connected ? true : undefined), 10_000);
    const sink = agent.agent.link!.statusSink;
    sink.podStatus({ namespace: 'default', name: 'reporter', uid }, { phase: 'Running', podIP: '10.42.0.8' });
    sink.podStatus({ namespace: 'default', name: 'reporter', uid }, { phase: 'Succeeded', podIP: '10.42.0.8' });
    await server.start();
    await waitFor('offline status delivered', async () => ((await podPhase()) === 'Succeeded' ? true : undefined), 30_000);
  }, 60_000);

  it('renews the node certificate over the link; the agent then links with the new one', async () => {
    const dir = nodeDir(agent.dataDir);
    const oldCert = readFileSync(join(dir, 'client.crt'), 'utf8');
    const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const old = new X509Certificate(oldCert);
    // A clock 300 days ahead: past 2/3 of the one-year lifetime.
    const renewal = startCertRenewal({
      node: 'reporting',
      caPem,
      currentCert: () => oldCert,
      request: (m) => agent.agent.link!.request(m),
      save: (cert, key) => writeCertificate(dir, cert, key),
      log: testLog,
      now: () => Date.now() + 300 * 24 * 3600 * 1000,
    });
    try {
      expect(await renewal.check()).toBe(true);
    } finally {
      renewal.stop();
    }
    const fresh = new X509Certificate(readFileSync(join(dir, 'client.crt'), 'utf8'));
    expect(fresh.serialNumber).not.toBe(old.serialNumber);
    expect(fresh.subject).toContain('CN=system:node:reporting');
    expect(fresh.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(dir, 'client.key'), 'utf8')))).toBe(true);
    // A restarted agent reads the renewed pair and links with it.
    await agent.stop();
    const again = createAgent({ dataDir: agent.dataDir, log: testLog, runtime: false, onFailure: () => undefined });
    agent = { agent: again, dataDir: agent.dataDir, stop: () => again.stop() };
    await again.start(new AbortController().signal);
    await again.ready;
    expect(again.link!.stats.resumes).toBe(1);
  });
});
