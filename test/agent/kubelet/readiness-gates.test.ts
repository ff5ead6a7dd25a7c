// Pod readiness gates end to end, as a load-balancer controller uses them: the real server process,
// a joined agent in this process whose kubelet runs over the in-memory FakeRuntime (the real link,
// cache, pod workers and status writes; only containerd is not there), and the gate's condition
// set with `kubectl patch --subresource=status`. The pod must turn Ready at once — the cache's
// change wakes its worker; the periodic resync is 60–90 s here — and the kubelet's later status
// writes must leave the condition it does not own in place.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRuntime } from '../../../src/runtime/fake-runtime.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { serverProcess, startTestAgent, waitFor } from '../../link/harness.ts';
import type { ApiJson, ServerProcess, TestAgent } from '../../link/harness.ts';

const GATE = 'target-health.example.com/ready';
const NODE = 'kubelet2-gated';

interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }

let server: ServerProcess;
let agent: TestAgent;
const rt = new FakeRuntime({ anyImage: true });

beforeAll(async () => {
  server = await serverProcess();
  agent = await startTestAgent(server.token(), NODE, server.dir, { runtime: rt });
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.dispose();
});

const getPod = async (name: string): Promise<ApiJson> => (await server.api('GET', `/api/v1/namespaces/default/pods/${name}`)).body;
const conditionOf = (pod: ApiJson, type: string): Condition | undefined => (pod.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

describe('pod readiness gates', () => {
  it('makes the pod Ready as soon as the gate\'s condition is True, and the kubelet\'s writes keep that condition', async () => {
    const created = await server.api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'gated' },
      spec: { nodeName: NODE, readinessGates: [{ conditionType: GATE }], containers: [{ name: 'web', image: 'example.com/web:1' }] },
    });
    expect(created.status).toBe(201);

    // Running, containers ready, held back by the gate.
    const held = await waitFor('ContainersReady=True and Ready=False', async () => {
      const p = await getPod('gated');
      return conditionOf(p, 'ContainersReady')?.status === 'True' && conditionOf(p, 'Ready')?.status === 'False' ? p : undefined;
    }, 60_000);
    expect(conditionOf(held, 'Ready')).toMatchObject({ reason: 'ReadinessGatesNotReady', message: `corresponding condition of pod readiness gate "${GATE}" does not exist.` });

    // What a load-balancer controller does (kubectl's default patch type is strategic: conditions merge by type).
    const patched = Date.now();
    const r = await kubectl(server, ['patch', 'pod', 'gated', '--subresource=status', '-p', JSON.stringify({ status: { conditions: [{ type: GATE, status: 'True' }] } })]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ready = await waitFor('Ready=True', async () => {
      const p = await getPod('gated');
      return conditionOf(p, 'Ready')?.status === 'True' ? p : undefined;
    }, 30_000, 100);
    const seconds = (Date.now() - patched) / 1000;
    // Woken by the change, not found by the resync (≥ 60 s).
    expect(seconds).toBeLessThan(20);
    // The kubelet's write removed the reason and message Ready had while the gate held it back.
    expect(conditionOf(ready, 'Ready')).not.toHaveProperty('reason');
    expect(conditionOf(ready, 'Ready')).not.toHaveProperty('message');
    expect(conditionOf(ready, GATE)?.status).toBe('True');

    // The kubelet's next status write (the container died and was restarted) leaves the gate's condition as it is.
    const cid = (ready.status.containerStatuses[0].containerID as string).replace('containerd://', '');
    rt.exit(cid, 1);
    const restarted = await waitFor('restartCount 1', async () => {
      const p = await getPod('gated');
      return p.status?.containerStatuses?.[0]?.restartCount === 1 && conditionOf(p, 'Ready')?.status === 'True' ? p : undefined;
    }, 30_000);
    expect(conditionOf(restarted, GATE)?.status).toBe('True');
  });

  it('writes the pod status without touching a condition it does not own, also one its status does not know yet', async () => {
    const pod = await getPod('gated');
    // A status computed before the gate's condition reached the agent: it names no such condition.
    const stale = {
      ...pod.status,
      conditions: (pod.status.conditions as Condition[]).filter((c) => c.type !== GATE).map((c) => (c.type === 'ContainersReady' ? { ...c, lastTransitionTime: '2030-01-01T00:00:00Z' } : c)),
    };
    agent.agent.link!.statusSink.podStatus({ namespace: 'default', name: 'gated', uid: pod.metadata.uid }, stale);
    const after = await waitFor('the write', async () => {
      const p = await getPod('gated');
      return conditionOf(p, 'ContainersReady')?.lastTransitionTime === '2030-01-01T00:00:00Z' ? p : undefined;
    });
    expect(conditionOf(after, GATE)?.status).toBe('True');
  });
});
