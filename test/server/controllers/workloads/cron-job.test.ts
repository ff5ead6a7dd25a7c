/**
 * CronJobs end to end against the real server, with kubectl and an injectable clock: the test moves
 * the controllers' clock past a schedule time and nudges the CronJob (any update wakes it) instead
 * of waiting for minutes to pass. Jobs are finished by writing their status, as the Job controller
 * would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { inNamespace, resources } from '../../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { startWorkloadCluster, waitFor } from './harness.ts';
import type { WorkloadCluster } from './harness.ts';

let c: WorkloadCluster;

beforeAll(async () => {
  c = await startWorkloadCluster(['cronjob']);
});

afterAll(async () => {
  await c?.stop();
});

const cjRef = inNamespace(resources.cronJobs, 'default');
const jobRef = inNamespace(resources.jobs, 'default');
let pokes = 0;

/** Move the controllers' clock into the next minute and wake the CronJob. */
async function nextMinute(name: string): Promise<void> {
  c.advance(60_000);
  await c.client.patch(cjRef, name, 'merge', { metadata: { annotations: { 'test/poke': String(++pokes) } } });
}

async function jobsOf(name: string): Promise<KubeObject[]> {
  return (await c.client.list(jobRef)).items.filter((j) => j.metadata.ownerReferences?.[0]?.name === name).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

async function complete(job: KubeObject): Promise<void> {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await c.client.patch(jobRef, job.metadata.name ?? '', 'merge', {
    status: { startTime: t, completionTime: t, succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: t, lastTransitionTime: t }] },
  }, { subresource: 'status' });
}

const jobCount = (name: string, n: number) => waitFor(async () => {
  const js = await jobsOf(name);
  return js.length === n ? js : undefined;
}, `${n} jobs of ${name}`);

describe('CronJob', () => {
  it('starts a Job per schedule time with the template, and records status', async () => {
    const created = await kubectl(c.server, ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=* * * * *']);
    expect(created.code).toBe(0);
    await nextMinute('tick');
    const [job] = await jobCount('tick', 1);
    expect(job?.metadata.name).toMatch(/^tick-\d{8}$/);
    const minutes = Number(job?.metadata.name?.slice('tick-'.length));
    expect(job?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(minutes * 60_000).toISOString().replace('.000Z', 'Z'));
    expect(job?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
    const cj = await waitFor(async () => {
      const obj = await c.client.get(cjRef, 'tick');
      return ((obj.status as { active?: unknown[] }).active ?? []).length === 1 ? obj : undefined;
    }, 'status.active');
    expect((cj.status as { lastScheduleTime?: string }).lastScheduleTime).toBe(job?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    // Allow: the next minute starts another one while the first still runs.
    await nextMinute('tick');
    await jobCount('tick', 2);
  });

  it('Forbid skips a run while one is active; finishing it starts the missed run, sets lastSuccessfulTime and prunes history', async () => {
    const manifest = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'solo' },
      spec: { schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 1, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    };
    expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: JSON.stringify(manifest) })).code).toBe(0);
    await nextMinute('solo');
    const [first] = await jobCount('solo', 1);
    await nextMinute('solo');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await jobsOf('solo')).toHaveLength(1);
    await complete(first as KubeObject);
    await waitFor(async () => ((await c.client.get(cjRef, 'solo')).status as { lastSuccessfulTime?: string }).lastSuccessfulTime, 'lastSuccessfulTime');
    // The skipped schedule time is still the most recent one: it starts now, as upstream.
    const both = await jobCount('solo', 2);
    expect(Number(both[1]?.metadata.name?.slice(5))).toBeGreaterThan(Number(first?.metadata.name?.slice(5)));
    await complete(both[1] as KubeObject);
    // successfulJobsHistoryLimit 1: the older finished Job goes.
    const left = await waitFor(async () => {
      const js = await jobsOf('solo');
      return js.length === 1 ? js : undefined;
    }, 'history pruned to one');
    expect(left[0]?.metadata.name).toBe(both[1]?.metadata.name);
  });

  it('Replace deletes the running Job before starting the next', async () => {
    const manifest = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'swap' },
      spec: { schedule: '* * * * *', concurrencyPolicy: 'Replace', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    };
    expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: JSON.stringify(manifest) })).code).toBe(0);
    await nextMinute('swap');
    const [first] = await jobCount('swap', 1);
    await nextMinute('swap');
    const [second] = await waitFor(async () => {
      const js = await jobsOf('swap');
      return js.length === 1 && js[0]?.metadata.name !== first?.metadata.name ? js : undefined;
    }, 'the replacement job');
    expect(Number(second?.metadata.name?.slice(5))).toBeGreaterThan(Number(first?.metadata.name?.slice(5)));
  });

  it('suspend stops new runs', async () => {
    expect((await kubectl(c.server, ['patch', 'cronjob', 'tick', '-p', '{"spec":{"suspend":true}}'])).code).toBe(0);
    const before = (await jobsOf('tick')).length;
    await nextMinute('tick');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await jobsOf('tick')).toHaveLength(before);
  });
});
