// --disable-controllers / EDGEOS_DISABLE_CONTROLLERS gives a passive API; by default the controller
// manager starts with every controller, authenticated by the in-memory loopback credential.
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';
import { waitFor } from './cluster.ts';

const started: RunningServer[] = [];

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

describe('controller manager wiring', () => {
  it('runs no controllers with --disable-controllers', async () => {
    const s = await startServer({ extraArgs: ['--disable-controllers'] });
    started.push(s);
    await waitFor(async () => (s.output().includes('--disable-controllers: no controllers or scheduler run') ? true : undefined), 'the passive-API log line');
    expect(s.output()).not.toContain('controllers starting');
  }, 90_000);

  it('starts every controller by default, as the loopback user, without logging its token', async () => {
    const s = await startServer();
    started.push(s);
    const line = await waitFor(async () => s.output().split('\n').find((l) => l.includes('controllers starting')), 'the controllers to start');
    const { controllers } = JSON.parse(line) as { controllers: string[] };
    expect(controllers).toEqual(expect.arrayContaining(['scheduler', 'node-lifecycle', 'endpoints', 'endpointslice', 'namespace', 'garbage-collector', 'replicaset', 'deployment']));
    // The scheduler reads and writes as system:edgeos-controller: with no nodes it reports why.
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } });
    expect((await s.request('POST', '/api/v1/namespaces/default/pods', { body, headers: { 'content-type': 'application/json' } })).status).toBe(201);
    const message = await waitFor(async () => {
      const pod = JSON.parse((await s.request('GET', '/api/v1/namespaces/default/pods/p')).body) as { status?: { conditions?: { type: string; message?: string }[] } };
      return pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message;
    }, 'the scheduler to report');
    expect(message).toBe('no nodes available to schedule pods');
    expect(s.output()).not.toContain('list/watch failed');
    expect(s.output()).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
  }, 90_000);
});
