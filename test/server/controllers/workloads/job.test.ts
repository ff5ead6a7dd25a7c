/**
 * Jobs end to end with the real server and kubectl 1.32: completion, BackoffLimitExceeded,
 * DeadlineExceeded, parallelism, and TTL-after-finished. The test plays the kubelet by setting
 * pod phases through pods/status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { inNamespace, NotFoundError, resources } from '../../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { listPods, markFinished, markRunningReady, startWorkloadCluster, waitFor } from './harness.ts';
import type { WorkloadCluster } from './harness.ts';

let c: WorkloadCluster;

beforeAll(async () => {
  // The TTL controller deletes a finished Job in the foreground, as upstream's does: the garbage
  // collector removes its pods, then the Job.
  c = await startWorkloadCluster(['job', 'ttl-after-finished', 'garbage-collector']);
});

afterAll(async () => {
  await c?.stop();
});

const k = (args: string[], stdin?: string) => kubectl(c.server, args, { timeoutMs: 90_000, ...(stdin ? { stdin } : {}) });
const jobRef = inNamespace(resources.jobs, 'default');

function jobManifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
  });
}

async function activePods(job: string, n: number): Promise<KubeObject[]> {
  return waitFor(async () => {
    const pods = (await listPods(c.client, 'default', `job-name=${job}`)).filter((p) => !(p.status as { phase?: string } | undefined)?.phase || (p.status as { phase?: string }).phase === 'Pending' || (p.status as { phase?: string }).phase === 'Running');
    return pods.length === n ? pods : undefined;
  }, `${n} active pods of job ${job}`);
}

async function condition(job: string, type: string): Promise<Record<string, string>> {
  return waitFor(async () => {
    const obj = await c.client.get(jobRef, job);
    return ((obj.status as { conditions?: Record<string, string>[] } | undefined)?.conditions ?? []).find((x) => x.type === type && x.status === 'True');
  }, `job ${job} condition ${type}`);
}

describe('Job with kubectl', () => {
  it('completes when its pod succeeds', async () => {
    expect((await k(['create', 'job', 'ok', '--image=busybox'])).code).toBe(0);
    const [pod] = await activePods('ok', 1);
    expect(pod?.metadata.name).toMatch(/^ok-[a-z0-9]{5}$/);
    const job = await c.client.get(jobRef, 'ok');
    expect(pod?.metadata.labels?.['controller-uid']).toBe(job.metadata.uid);
    expect(pod?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'ok', controller: true });
    await markRunningReady(c.client, pod as KubeObject);
    await waitFor(async () => ((await c.client.get(jobRef, 'ok')).status as { ready?: number }).ready === 1 || undefined, 'ready 1');
    await markFinished(c.client, pod as KubeObject, 'Succeeded');
    const wait = await k(['wait', '--for=condition=complete', 'job/ok', '--timeout=60s']);
    expect(wait.stdout).toContain('job.batch/ok condition met');
    const s = (await c.client.get(jobRef, 'ok')).status as Record<string, unknown>;
    expect(s).toMatchObject({ active: 0, succeeded: 1 });
    expect(s.startTime).toBeTruthy();
    expect(s.completionTime).toBeTruthy();
    const get = await k(['get', 'job', 'ok']);
    expect(get.stdout).toMatch(/ok\s+Complete\s+1\/1/);
  });

  it('runs completions with parallelism', async () => {
    expect((await k(['apply', '-f', '-'], jobManifest('par', { completions: 3, parallelism: 2 }))).code).toBe(0);
    const first = await activePods('par', 2);
    await markFinished(c.client, first[0] as KubeObject, 'Succeeded');
    // One succeeded, two remain to run: still two at a time.
    const second = await waitFor(async () => {
      const pods = await activePods('par', 2);
      return pods.some((p) => p.metadata.name !== first[0]?.metadata.name && p.metadata.name !== first[1]?.metadata.name) ? pods : undefined;
    }, 'a replacement pod');
    for (const p of second) await markFinished(c.client, p, 'Succeeded');
    await condition('par', 'Complete');
    const all = await listPods(c.client, 'default', 'job-name=par');
    expect(all).toHaveLength(3);
    expect(((await c.client.get(jobRef, 'par')).status as { succeeded: number }).succeeded).toBe(3);
  });

  it('fails with BackoffLimitExceeded after backoffLimit+1 pod failures', async () => {
    expect((await k(['apply', '-f', '-'], jobManifest('bad', { backoffLimit: 1 }))).code).toBe(0);
    const [p1] = await activePods('bad', 1);
    await markFinished(c.client, p1 as KubeObject, 'Failed');
    // The replacement waits out the 10 s pod-failure backoff.
    const [p2] = await waitFor(async () => {
      const pods = await activePods('bad', 1);
      return pods[0]?.metadata.name !== p1?.metadata.name ? pods : undefined;
    }, 'the replacement pod', 60_000);
    expect(((await c.client.get(jobRef, 'bad')).status as { failed: number }).failed).toBe(1);
    await markFinished(c.client, p2 as KubeObject, 'Failed');
    const failed = await condition('bad', 'Failed');
    expect(failed).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(((await c.client.get(jobRef, 'bad')).status as { failed: number }).failed).toBe(2);
    expect((await k(['get', 'job', 'bad'])).stdout).toMatch(/bad\s+Failed/);
  });

  it('fails with DeadlineExceeded and deletes its running pods', async () => {
    expect((await k(['apply', '-f', '-'], jobManifest('slow', { activeDeadlineSeconds: 2, parallelism: 2, completions: 4 }))).code).toBe(0);
    await activePods('slow', 2);
    const failed = await condition('slow', 'Failed');
    expect(failed.reason).toBe('DeadlineExceeded');
    await waitFor(async () => ((await listPods(c.client, 'default', 'job-name=slow')).length === 0 ? true : undefined), 'pods deleted');
  });

  it('runs an Indexed Job: one pod per index, completedIndexes, Complete', async () => {
    expect((await k(['apply', '-f', '-'], jobManifest('idx', { completions: 3, parallelism: 2, completionMode: 'Indexed' }))).code).toBe(0);
    const first = await activePods('idx', 2);
    const index = (p: KubeObject) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
    expect(first.map(index).sort()).toEqual(['0', '1']);
    const zero = first.find((p) => index(p) === '0') as KubeObject;
    expect(zero.metadata.name).toMatch(/^idx-0-[a-z0-9]{5}$/);
    expect(zero.spec).toMatchObject({ hostname: 'idx-0' });
    expect((zero.spec as { containers: { env: { name: string }[] }[] }).containers[0]?.env.map((e) => e.name)).toEqual(['JOB_COMPLETION_INDEX']);
    await markFinished(c.client, zero, 'Succeeded');
    const next = await waitFor(async () => {
      const pods = await activePods('idx', 2);
      return pods.some((p) => index(p) === '2') ? pods : undefined;
    }, 'index 2 started');
    await waitFor(async () => (((await c.client.get(jobRef, 'idx')).status as { completedIndexes?: string }).completedIndexes === '0' ? true : undefined), 'completedIndexes 0');
    for (const p of next) await markFinished(c.client, p, 'Succeeded');
    await condition('idx', 'Complete');
    expect((await c.client.get(jobRef, 'idx')).status).toMatchObject({ succeeded: 3, completedIndexes: '0-2' });
  });

  it('deletes a finished Job after ttlSecondsAfterFinished', async () => {
    expect((await k(['apply', '-f', '-'], jobManifest('short', { ttlSecondsAfterFinished: 1 }))).code).toBe(0);
    const [pod] = await activePods('short', 1);
    // Watched, not polled: one second after Complete the Job is gone, and a poll on a loaded
    // machine can miss that window (CI did). The stream sees both the condition and the deletion.
    const { resourceVersion } = await c.client.list(jobRef, { fieldSelector: 'metadata.name=short' });
    const abort = AbortSignal.timeout(45_000);
    const seen: { type: string; complete: boolean }[] = [];
    const watched = (async () => {
      for await (const e of c.client.watch(jobRef, { fieldSelector: 'metadata.name=short', resourceVersion, signal: abort })) {
        const conditions = (e.object.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
        seen.push({ type: e.type, complete: conditions.some((x) => x.type === 'Complete' && x.status === 'True') });
        if (e.type === 'DELETED') return;
      }
    })();
    await markFinished(c.client, pod as KubeObject, 'Succeeded');
    await watched;
    expect(seen.at(-1)).toEqual({ type: 'DELETED', complete: true });
    await expect(c.client.get(jobRef, 'short')).rejects.toBeInstanceOf(NotFoundError);
  });
});
