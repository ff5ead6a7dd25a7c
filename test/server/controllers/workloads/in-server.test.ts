/**
 * The workload controllers as `edgeos server` runs them (registered in the controller manager, next
 * to the scheduler): a Deployment rolls out and a Job completes with nothing running in the test
 * but kubectl and the stand-in kubelet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { startCluster } from '../cluster.ts';
import type { Cluster } from '../cluster.ts';
import { autoReady, listPods, markFinished, waitFor } from './harness.ts';

let c: Cluster;
let kubelet: { stop(): Promise<void> };

beforeAll(async () => {
  c = await startCluster();
  kubelet = autoReady(c.client, 'default', 'app=web');
});

afterAll(async () => {
  await kubelet?.stop();
  await c?.stop();
});

describe('workload controllers inside edgeos server', () => {
  it('rolls out a Deployment', async () => {
    expect((await kubectl(c.server, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2'])).code).toBe(0);
    const status = await kubectl(c.server, ['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    expect(await listPods(c.client, 'default', 'app=web')).toHaveLength(2);
  });

  it('completes a Job', async () => {
    expect((await kubectl(c.server, ['create', 'job', 'once', '--image=busybox'])).code).toBe(0);
    const [pod] = await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'job-name=once');
      return ps.length ? ps : undefined;
    }, 'the job pod');
    await markFinished(c.client, pod as NonNullable<typeof pod>, 'Succeeded');
    const wait = await kubectl(c.server, ['wait', '--for=condition=complete', 'job/once', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(wait.stdout).toContain('condition met');
  });
});
