/**
 * The StatefulSet controller (pkg/controller/statefulset): stable pods `<set>-<ordinal>` with
 * hostname/subdomain identity and per-ordinal PersistentVolumeClaims from volumeClaimTemplates,
 * created in order and removed from the highest ordinal, rolled one pod at a time from the top,
 * with ControllerRevisions recording each template (currentRevision/updateRevision).
 */
import { objectKey, splitKey } from '../keys.ts';
import type { Controller, ControllerContext, KubeObject, WorkQueue } from '../types.ts';
import { AlreadyExistsError, inNamespace, NotFoundError, resources } from '../types.ts';
import { childEventHandler, ownerEventHandler } from './child-events.ts';
import { claimChildren } from './claim.ts';
import { ownedRevisions, REVISION_LABEL, revisionsToPrune, syncRevisions, templateOf } from './controller-revisions.ts';
import { Expectations } from './expectations.ts';
import { controllerRefTo } from './owner-refs.ts';
import { podFromTemplate, slowStartBatch } from './pod-control.ts';
import type { PodTemplate } from './pod-control.ts';
import { msUntilAvailable } from './pods.ts';
import { queueController } from './queue-controller.ts';
import { ordinalOf, planStatefulSet } from './stateful-set-plan.ts';
import { writeStatus } from './status-writer.ts';

const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

interface SetSpec {
  selector?: { matchLabels?: Record<string, string> };
  serviceName?: string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  volumeClaimTemplates?: KubeObject[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

/** A plain (non-controller) owner reference, as the PVC retention policy sets them. */
function ownerRef(owner: KubeObject, apiVersion: string, kind: string): { apiVersion: string; kind: string; name: string; uid: string } {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '' };
}

export function statefulSetController(ctx: ControllerContext): Controller {
  const sets = ctx.informers.informerFor(resources.statefulSets);
  const pods = ctx.informers.informerFor(resources.pods);
  const revisions = ctx.informers.informerFor(resources.controllerRevisions);
  const expectations = new Expectations(() => ctx.clock.now());

  /** `<template>-<set>-<ordinal>` for each volumeClaimTemplate (getPersistentVolumeClaimName). */
  function claimsFor(set: KubeObject, ordinal: number): KubeObject[] {
    const spec = (set.spec ?? {}) as SetSpec;
    // whenDeleted: Delete → the claims belong to the set, so deleting it takes them along.
    const owned = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete' ? { ownerReferences: [ownerRef(set, 'apps/v1', 'StatefulSet')] } : {};
    return (spec.volumeClaimTemplates ?? []).map((t) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: `${t.metadata.name ?? ''}-${set.metadata.name ?? ''}-${ordinal}`,
        namespace: set.metadata.namespace,
        labels: { ...(spec.selector?.matchLabels ?? {}), ...(t.metadata.labels ?? {}) },
        ...(t.metadata.annotations ? { annotations: t.metadata.annotations } : {}),
        ...owned,
      },
      spec: structuredClone(t.spec ?? {}),
    }));
  }

  /** newVersionedStatefulSetPod: identity (name, hostname, subdomain, labels), claims, revision. */
  function statefulPod(set: KubeObject, ordinal: number, template: PodTemplate, revision: string): KubeObject {
    const name = `${set.metadata.name ?? ''}-${ordinal}`;
    const pod = podFromTemplate(template, set.metadata.namespace ?? '', controllerRefTo(set, 'apps/v1', 'StatefulSet'), { name });
    pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision };
    const spec = pod.spec as { hostname?: string; subdomain?: string; volumes?: { name: string }[] };
    spec.hostname = name;
    const service = ((set.spec ?? {}) as SetSpec).serviceName;
    if (service) spec.subdomain = service;
    const claims = ((set.spec ?? {}) as SetSpec).volumeClaimTemplates ?? [];
    if (claims.length) {
      const byName = new Set(claims.map((t) => t.metadata.name));
      spec.volumes = [
        ...(spec.volumes ?? []).filter((v) => !byName.has(v.name)),
        ...claims.map((t) => ({ name: t.metadata.name ?? '', persistentVolumeClaim: { claimName: `${t.metadata.name ?? ''}-${set.metadata.name ?? ''}-${ordinal}` } })),
      ];
    }
    return pod;
  }

  /** The claims of one ordinal (createPersistentVolumeClaims); one that exists already is reused (Retain). */
  async function createClaims(set: KubeObject, ordinal: number): Promise<void> {
    const ns = set.metadata.namespace ?? '';
    for (const claim of claimsFor(set, ordinal)) {
      try {
        await ctx.client.create(inNamespace(resources.persistentVolumeClaims, ns), claim);
        ctx.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name ?? ''} Pod ${set.metadata.name ?? ''}-${ordinal} in StatefulSet ${set.metadata.name ?? ''} success`);
      } catch (e) {
        if (e instanceof AlreadyExistsError) continue;
        ctx.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name ?? ''} for Pod ${set.metadata.name ?? ''}-${ordinal} in StatefulSet ${set.metadata.name ?? ''} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
  }

  /** One pod, once its claims exist (`claims`: their creation, started by the caller). */
  async function createOne(key: string, set: KubeObject, ordinal: number, template: PodTemplate, revision: string, claims: Promise<void>): Promise<void> {
    const ns = set.metadata.namespace ?? '';
    try {
      await claims;
    } catch (e) {
      expectations.creationObserved(key); // the pod is never attempted
      throw e;
    }
    const pod = statefulPod(set, ordinal, template, revision);
    const podName = pod.metadata.name ?? '';
    try {
      await ctx.client.create(inNamespace(resources.pods, ns), pod);
      ctx.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name ?? ''} successful`);
    } catch (e) {
      expectations.creationObserved(key);
      if (e instanceof AlreadyExistsError) return;
      ctx.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name ?? ''} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  /**
   * whenScaled: Delete — a pod removed by scale-down hands its claims to itself first, so they go
   * with it: the pod becomes their owner instead of the set (upstream's
   * updateClaimOwnerRefForSetAndPod), since the garbage collector keeps an object that still has
   * a live owner.
   */
  async function releaseClaimsWith(set: KubeObject, pod: KubeObject, ordinal: number): Promise<void> {
    const ns = set.metadata.namespace ?? '';
    for (const claim of claimsFor(set, ordinal)) {
      const name = claim.metadata.name ?? '';
      try {
        const current = await ctx.client.get(inNamespace(resources.persistentVolumeClaims, ns), name);
        const refs = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== pod.metadata.uid && r.uid !== set.metadata.uid);
        await ctx.client.patch(inNamespace(resources.persistentVolumeClaims, ns), name, 'merge', { metadata: { ownerReferences: [...refs, ownerRef(pod, 'v1', 'Pod')] } });
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
  }

  async function deleteOne(key: string, set: KubeObject, pod: KubeObject): Promise<void> {
    const podName = pod.metadata.name ?? '';
    const ordinal = ordinalOf(set.metadata.name ?? '', podName);
    const replicas = (set.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    const start = (set.spec as { ordinals?: { start?: number } } | undefined)?.ordinals?.start ?? 0;
    const condemned = ordinal !== undefined && (ordinal < start || ordinal >= start + replicas);
    if (condemned && ((set.spec ?? {}) as SetSpec).persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') await releaseClaimsWith(set, pod, ordinal);
    try {
      await ctx.client.delete(inNamespace(resources.pods, pod.metadata.namespace ?? ''), podName, { preconditions: { uid: pod.metadata.uid } });
      ctx.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${set.metadata.name ?? ''} successful`);
    } catch (e) {
      expectations.deletionObserved(key, podName);
      if (e instanceof NotFoundError) return;
      ctx.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${set.metadata.name ?? ''} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const set = sets.get(namespace, name);
    if (!set) {
      expectations.forget(key);
      return;
    }
    const spec = (set.spec ?? {}) as SetSpec;
    const owned = await claimChildren(ctx.client, { owner: set, ownerApiVersion: 'apps/v1', ownerKind: 'StatefulSet', selector: spec.selector, childRef: resources.pods }, pods.list(namespace));
    const history = ownedRevisions(set, revisions.list(namespace));
    const { current, update, all } = await syncRevisions(ctx, set, history, 'StatefulSet');
    const now = ctx.clock.now();
    const plan = planStatefulSet(set, owned, current.metadata.name ?? '', update.metadata.name ?? '', now);
    if (expectations.satisfied(key) && !set.metadata.deletionTimestamp) {
      expectations.expect(key, plan.create.length, plan.remove.map((p) => p.metadata.name ?? ''));
      // Parallel creates its pods (and their claims) in slow-start batches, as upstream; with
      // OrderedReady the plan holds one ordinal at a time anyway. Each pod waits for its own
      // claims, never exists before them; the claims of the next batch are created while this
      // batch's pods are, so a batch costs one write per pod instead of a claim's then a pod's.
      const pending = [...plan.create];
      const claimWrites = new Map<number, Promise<void>>();
      const claimsOf = (ordinal: number) => {
        let w = claimWrites.get(ordinal);
        if (!w) {
          w = createClaims(set, ordinal);
          w.catch(() => undefined); // awaited by its pod; one never attempted after a failed batch is dropped
          claimWrites.set(ordinal, w);
        }
        return w;
      };
      let calls = 0;
      const created = await slowStartBatch(pending.length, () => {
        const c = pending.shift()!;
        // Batches double, so the batch after the one of the j-th call (index j) ends at index
        // 2j+2: the j+2 entries that follow it in `pending`.
        for (const next of pending.slice(0, calls + 2)) claimsOf(next.ordinal);
        calls++;
        const rev = c.revision === current.metadata.name ? current : update;
        return createOne(key, set, c.ordinal, templateOf(rev) as PodTemplate, c.revision, claimsOf(c.ordinal));
      });
      for (const _ of pending) expectations.creationObserved(key); // never attempted after a failed batch
      if (created.error) throw created.error;
      for (const p of plan.remove) await deleteOne(key, set, p);
    }
    await writeStatus(ctx.client, resources.statefulSets, set, { ...plan.status });
    // History: keep current, update and every revision a live pod still runs.
    const keep = new Set([current.metadata.name ?? '', update.metadata.name ?? '', ...owned.map((p) => p.metadata.labels?.[REVISION_LABEL] ?? '')]);
    for (const cr of revisionsToPrune(all, keep, spec.revisionHistoryLimit ?? 10)) {
      await ctx.client.delete(inNamespace(resources.controllerRevisions, namespace ?? ''), cr.metadata.name ?? '').catch((e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
    }
    const waits = owned.map((p) => msUntilAvailable(p, spec.minReadySeconds ?? 0, now)).filter((ms): ms is number => ms !== undefined);
    if (waits.length) queue.addAfter(key, Math.min(...waits) + 100);
  }

  return queueController(ctx, {
    name: 'statefulset',
    wire: (queue) => [
      sets.addEventHandler(ownerEventHandler(queue, expectations)),
      pods.addEventHandler(childEventHandler({ kind: 'StatefulSet', owners: sets, queue, expectations, selectorOf: (s) => (s.spec as SetSpec | undefined)?.selector })),
      revisions.addEventHandler({
        delete: (cr) => {
          const ref = cr.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'StatefulSet');
          const set = ref ? sets.get(cr.metadata.namespace, ref.name) : undefined;
          if (set) queue.add(objectKey(set));
        },
      }),
    ],
    sync,
  });
}
