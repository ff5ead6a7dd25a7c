// A pod's last reports survive a server whose API cannot take them for a while. The server runs
// on a real PostgreSQL that is stopped: its API answers 503 (STORE_UNAVAILABLE) while the link
// stays up, and the link carries that as LINK_BUSY, not a refusal. The agent keeps a pod's final
// status and its termination and sends them again; once the database is back the pod is gone from
// the API and the other one Succeeded — not left Terminating or Running for ever, as when a
// refused report was dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkError, LinkErrorCode } from '../../src/common/link/errors.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import { serverProcess, sleep, startTestAgent, waitFor } from './harness.ts';
import type { ServerProcess, TestAgent } from './harness.ts';

const NODE = 'busy-node';
let pg: TestPostgres;
let server: ServerProcess;
let agent: TestAgent;

async function createPod(name: string): Promise<string> {
  const r = await server.api('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox' }] },
  });
  expect(r.status).toBe(201);
  return r.body.metadata.uid as string;
}

beforeAll(async () => {
  pg = await startPostgres();
  server = await serverProcess(['--datastore-endpoint', pg.url(await pg.createDatabase('busy'))]);
  agent = await startTestAgent(server.token(), NODE, server.dir);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.dispose();
  await pg?.destroy();
});

describe('a busy server', () => {
  it('gets a pod’s final status and its termination again once its API takes writes', async () => {
    const endingUid = await createPod('ending');
    const finishingUid = await createPod('finishing');
    const link = agent.agent.link!;
    await waitFor('the link', () => (link.connected ? true : undefined), 30_000);

    await pg.stop();
    // The server's API cannot write: the link says so with LINK_BUSY (the link itself stays up).
    const busy = await link.request({ type: 'pod-status', namespace: 'default', name: 'finishing', uid: finishingUid, status: { phase: 'Running' } }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(LinkError);
    expect((busy as LinkError).code).toBe(LinkErrorCode.LINK_BUSY);
    expect(link.connected).toBe(true);

    link.statusSink.podStatus({ namespace: 'default', name: 'finishing', uid: finishingUid }, { phase: 'Succeeded' });
    link.statusSink.podTerminated!({ namespace: 'default', name: 'ending', uid: endingUid });
    // Both are tried (and answered busy) at least twice while the database is away.
    await sleep(7000);
    expect(link.connected).toBe(true);

    await pg.restart();
    await waitFor('the terminated pod to leave the API', async () => ((await server.api('GET', '/api/v1/namespaces/default/pods/ending')).status === 404 ? true : undefined), 60_000);
    await waitFor('the final status', async () => ((await server.api('GET', '/api/v1/namespaces/default/pods/finishing')).body.status?.phase === 'Succeeded' ? true : undefined), 30_000);
  }, 150_000);
});
