/**
 * Creating and deleting a controller's pods (controller.RealPodControl): pods are built from the
 * owner's template with a controller reference, named `<owner>-<5 random chars>` by the API's
 * generateName, and each write is recorded as the SuccessfulCreate / SuccessfulDelete (or
 * FailedCreate / FailedDelete) event upstream emits on the owner.
 */
import type { ControllerContext, KubeObject, OwnerReference } from '../types.ts';
import { AlreadyExistsError, inNamespace, NotFoundError, resources } from '../types.ts';

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: Record<string, unknown>;
}

/** GetPodFromTemplate: labels, annotations and finalizers of the template, its spec, our reference. */
export function podFromTemplate(template: PodTemplate, namespace: string, ref: OwnerReference, naming: { generateName?: string; name?: string }): KubeObject {
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...naming,
      namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [ref],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** Create a pod; on failure emit FailedCreate and rethrow. */
export async function createPod(ctx: ControllerContext, owner: KubeObject, pod: KubeObject): Promise<KubeObject> {
  const ns = owner.metadata.namespace ?? '';
  try {
    const created = await ctx.client.create(inNamespace(resources.pods, ns), pod);
    ctx.recorder.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
    return created;
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) ctx.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
    throw e;
  }
}

/** Delete a pod; an already-missing pod counts as deleted. */
export async function deletePod(ctx: ControllerContext, owner: KubeObject, pod: KubeObject): Promise<void> {
  const name = pod.metadata.name ?? '';
  try {
    await ctx.client.delete(inNamespace(resources.pods, pod.metadata.namespace ?? ''), name, { preconditions: { uid: pod.metadata.uid } });
    ctx.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  } catch (e) {
    if (e instanceof NotFoundError) return;
    ctx.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * slowStartBatch: run `count` calls in batches of 1, 2, 4, … and stop at the first batch with a
 * failure, so a quota or admission error costs one request rather than hundreds. Returns how many
 * succeeded and the first error.
 */
export async function slowStartBatch(count: number, call: () => Promise<unknown>): Promise<{ done: number; error?: unknown }> {
  let done = 0;
  let batch = 1;
  while (done < count) {
    const size = Math.min(batch, count - done);
    const results = await Promise.allSettled(Array.from({ length: size }, () => call()));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    done += ok;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) return { done, error: failed.reason };
    batch *= 2;
  }
  return { done };
}
