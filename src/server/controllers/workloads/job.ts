/**
 * The Job controller (pkg/controller/job): runs pods `<job>-<5 chars>` from the template until
 * `completions` succeeded (or, without completions, until one succeeded and the rest finished),
 * at most `parallelism` at a time, replacing failed ones after the pod-failure backoff; fails the
 * Job past `backoffLimit` or `activeDeadlineSeconds`, deleting what still runs. Reports
 * active/ready/succeeded/failed/startTime/completionTime and the Complete/Failed conditions.
 */
import { splitKey } from '../keys.ts';
import type { Controller, ControllerContext, KubeObject, WorkQueue } from '../types.ts';
import { resources } from '../types.ts';
import { childEventHandler, ownerEventHandler } from './child-events.ts';
import { claimChildren } from './claim.ts';
import { Expectations } from './expectations.ts';
import { jobFinished, planJob } from './job-accounting.ts';
import { COMPLETION_INDEX } from './job-indexes.ts';
import { controllerRefTo } from './owner-refs.ts';
import { createPod, deletePod, podFromTemplate, slowStartBatch } from './pod-control.ts';
import type { PodTemplate } from './pod-control.ts';
import { queueController } from './queue-controller.ts';
import { writeStatus } from './status-writer.ts';

export function jobController(ctx: ControllerContext): Controller {
  const jobs = ctx.informers.informerFor(resources.jobs);
  const pods = ctx.informers.informerFor(resources.pods);
  const expectations = new Expectations(() => ctx.clock.now());

  /** A Job pod; for Indexed Jobs with its completion index (annotation, label, env, hostname). */
  function jobPod(job: KubeObject, index: number | undefined): KubeObject {
    const spec = (job.spec ?? {}) as { template?: PodTemplate };
    const name = job.metadata.name ?? '';
    const ref = controllerRefTo(job, 'batch/v1', 'Job');
    const ns = job.metadata.namespace ?? '';
    if (index === undefined) return podFromTemplate(spec.template ?? {}, ns, ref, { generateName: `${name}-` });
    const pod = podFromTemplate(spec.template ?? {}, ns, ref, { generateName: `${name}-${index}-` });
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [COMPLETION_INDEX]: String(index) };
    pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [COMPLETION_INDEX]: String(index) };
    const podSpec = pod.spec as { hostname?: string; containers?: { env?: unknown[] }[]; initContainers?: { env?: unknown[] }[] };
    podSpec.hostname = `${name}-${index}`;
    const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
    for (const c of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) c.env = [...(c.env ?? []), env];
    return pod;
  }

  async function createPods(key: string, job: KubeObject, n: number, indexes: readonly number[] | undefined): Promise<unknown> {
    expectations.expectCreations(key, n);
    let next = 0;
    const result = await slowStartBatch(n, () =>
      createPod(ctx, job, jobPod(job, indexes?.[next++])).catch((e: unknown) => {
        expectations.creationObserved(key);
        throw e;
      }),
    );
    const skipped = n - result.done - (result.error ? 1 : 0);
    for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
    return result.error;
  }

  async function deletePods(key: string, job: KubeObject, victims: readonly KubeObject[]): Promise<unknown> {
    if (victims.length === 0) return undefined;
    expectations.expectDeletions(key, victims.map((p) => p.metadata.name ?? ''));
    const results = await Promise.allSettled(
      victims.map((p) =>
        deletePod(ctx, job, p).catch((e: unknown) => {
          expectations.deletionObserved(key, p.metadata.name ?? '');
          throw e;
        }),
      ),
    );
    return results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  }

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = jobs.get(namespace, name);
    if (!job) {
      expectations.forget(key);
      return;
    }
    // A finished Job is left alone (its pods stay for logs; TTL-after-finished removes it).
    if (jobFinished(job) || job.metadata.deletionTimestamp) return;
    const selector = (job.spec as { selector?: unknown } | undefined)?.selector;
    const owned = await claimChildren(ctx.client, { owner: job, ownerApiVersion: 'batch/v1', ownerKind: 'Job', selector, childRef: resources.pods }, pods.list(namespace));
    // Acting on a cache that has not caught up with our own writes would double-create.
    if (!expectations.satisfied(key)) return;
    const plan = planJob(job, owned, ctx.clock.now());
    const failure = plan.remove.length ? await deletePods(key, job, plan.remove) : plan.create > 0 ? await createPods(key, job, plan.create, plan.indexes) : undefined;
    if (plan.event && !failure) ctx.recorder.event(job, plan.event.type, plan.event.reason, plan.event.message);
    // A finishing Job reports only once its pods are deleted, so it never reads "done" with pods running.
    if (!failure) await writeStatus(ctx.client, resources.jobs, job, { ...plan.status });
    if (plan.requeueAfterMs !== undefined) queue.addAfter(key, plan.requeueAfterMs + 50);
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  }

  return queueController(ctx, {
    name: 'job',
    wire: (queue) => [
      jobs.addEventHandler(ownerEventHandler(queue, expectations)),
      pods.addEventHandler(childEventHandler({ kind: 'Job', owners: jobs, queue, expectations, selectorOf: (j) => (j.spec as { selector?: unknown } | undefined)?.selector })),
    ],
    sync,
  });
}
