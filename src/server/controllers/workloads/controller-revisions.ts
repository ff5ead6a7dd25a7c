/**
 * ControllerRevisions for StatefulSets and DaemonSets (pkg/controller/history,
 * stateful_set_utils.go newRevision/getPatch, daemon update.go): each distinct template is stored
 * once as `{"spec":{"template":{…,"$patch":"replace"}}}` in a ControllerRevision `<set>-<hash>`
 * owned by the set, numbered by `revision`. `kubectl rollout history sts|ds` lists them and
 * `rollout undo` applies one's data as a strategic merge patch — which is why the data has that
 * shape.
 */
import type { ControllerContext, KubeObject } from '../types.ts';
import { AlreadyExistsError, inNamespace, resources } from '../types.ts';
import { controllerOf } from '../keys.ts';
import { controllerRefTo } from './owner-refs.ts';
import { canonicalJson, computeTemplateHash, semanticValue } from './pod-template-hash.ts';

/** The pod label naming a pod's revision (StatefulSet: the revision's name; DaemonSet: its hash). */
export const REVISION_LABEL = 'controller-revision-hash';
/** The hash label on ControllerRevisions (history.ControllerRevisionHashLabel). */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

/** The hash part of a revision, as DaemonSet pods are labelled with it. */
export function hashOf(cr: KubeObject): string {
  return cr.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
}

/** The data upstream's getPatch produces for a set's template. */
export function revisionData(set: KubeObject): Record<string, unknown> {
  const template = (set.spec as { template?: Record<string, unknown> } | undefined)?.template ?? {};
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

export function revisionNumber(cr: KubeObject): number {
  return typeof cr.revision === 'number' ? cr.revision : 0;
}

function sameData(a: unknown, b: unknown): boolean {
  return canonicalJson(semanticValue(a)) === canonicalJson(semanticValue(b));
}

export function ownedRevisions(set: KubeObject, all: readonly KubeObject[]): KubeObject[] {
  return all.filter((cr) => controllerOf(cr)?.uid === set.metadata.uid).sort((a, b) => revisionNumber(a) - revisionNumber(b));
}

/**
 * getStatefulSetRevisions: the update revision is the one holding the current template — reused
 * (and renumbered to the newest when it is an old one, as after an undo) or created. The current
 * revision is the one status.currentRevision names, else the update revision.
 */
export async function syncRevisions(ctx: ControllerContext, set: KubeObject, owned: readonly KubeObject[], kind: 'StatefulSet' | 'DaemonSet'): Promise<{ current: KubeObject; update: KubeObject; all: KubeObject[] }> {
  const ns = set.metadata.namespace ?? '';
  const ref = inNamespace(resources.controllerRevisions, ns);
  const data = revisionData(set);
  const max = owned.reduce((m, cr) => Math.max(m, revisionNumber(cr)), 0);
  const all = [...owned];
  let update = [...owned].reverse().find((cr) => sameData(cr.data, data));
  if (update && revisionNumber(update) < max) {
    update = await ctx.client.update(ref, { ...update, revision: max + 1 });
    all.splice(all.findIndex((cr) => cr.metadata.name === update?.metadata.name), 1, update);
  } else if (!update) {
    const collisionCount = (set.status as { collisionCount?: number } | undefined)?.collisionCount;
    const hash = computeTemplateHash(data, collisionCount);
    const name = `${set.metadata.name ?? ''}-${hash}`;
    const fresh: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: ns,
        labels: { ...((set.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {}), [REVISION_HASH_LABEL]: hash },
        ownerReferences: [controllerRefTo(set, 'apps/v1', kind)],
      },
      data,
      revision: max + 1,
    };
    try {
      update = await ctx.client.create(ref, fresh);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      // Our cache lagged behind our own write: the namesake is this revision if its data matches.
      const existing = await ctx.client.get(ref, name);
      if (controllerOf(existing)?.uid !== set.metadata.uid || !sameData(existing.data, data)) throw e;
      update = existing;
    }
    all.push(update);
  }
  const currentName = (set.status as { currentRevision?: string } | undefined)?.currentRevision;
  const current = all.find((cr) => cr.metadata.name === currentName) ?? update;
  return { current, update, all };
}

/** The template a revision stores (what pods of that revision are made from). */
export function templateOf(cr: KubeObject): Record<string, unknown> {
  const t = { ...(((cr.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {}) as Record<string, unknown>) };
  delete t.$patch;
  return t;
}

/**
 * truncateHistory: beyond revisionHistoryLimit, delete the oldest revisions that are neither the
 * current nor the update revision nor still used by a live pod.
 */
export function revisionsToPrune(all: readonly KubeObject[], keep: ReadonlySet<string>, limit: number): KubeObject[] {
  const candidates = all.filter((cr) => !keep.has(cr.metadata.name ?? '')).sort((a, b) => revisionNumber(a) - revisionNumber(b));
  const excess = candidates.length - limit;
  return excess > 0 ? candidates.slice(0, excess) : [];
}
