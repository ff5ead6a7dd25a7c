/**
 * The read-modify-write loop shared by PUT, PATCH, status and scale writes, after apiserver's
 * GuaranteedUpdate: read the current object, compute the desired one, apply the update rules,
 * default/validate, then compare-and-swap on the current revision. A client-given
 * metadata.resourceVersion is a precondition (409 Conflict when stale); without one, a lost race
 * is retried with the fresh object.
 */
import { ConflictError } from '../../store/errors.ts';
import type { TxnOp } from '../../store/types.ts';
import { present } from '../kinds/types.ts';
import type { KubeObject } from '../kinds/types.ts';
import { hasSubresource, objectKey } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { defaultAndValidate } from './admit.ts';
import type { ApiDeps, Call } from './context.ts';
import { hooksFor } from './hooks.ts';
import { fieldManagerOf, recordUpdate } from './managed-fields.ts';
import { decodeStored, encodeForStore, finalizersOf, meta, metaString } from '../storage/objects.ts';
import { rfc3339 } from '../kinds/age.ts';
import { readCurrent } from '../storage/read.ts';
import { badRequest, conflict, invalid, notFound } from '../storage/status.ts';
import { validateEphemeralContainersUpdate } from '../kinds/pod-ephemeral.ts';
import { translateStoreError } from '../storage/store-errors.ts';

/** The subresources an update may go through (ephemeralcontainers: pods/ephemeralcontainers, only those change). */
export type UpdateSubresource = '' | 'status' | 'binding' | 'ephemeralcontainers';

export interface UpdateRequest {
  /**
   * "" for the main resource (keeps the stored status), "status" for the status subresource (keeps
   * everything else), "binding" for pods/binding (writes spec.nodeName and the PodScheduled status).
   */
  readonly subresource: UpdateSubresource;
  /** Desired object from the current one (undefined only when allowCreate). May throw ApiError. */
  transform(current: KubeObject | undefined): Promise<KubeObject>;
  /** Server-side apply creates a missing object. */
  readonly allowCreate?: (desired: KubeObject) => Promise<KubeObject>;
  readonly dryRun: boolean;
  /** Record an Update managedFields entry (apply records its own). */
  readonly recordManager: boolean;
}

export interface UpdateResult {
  readonly obj: KubeObject;
  readonly created: boolean;
}

const IMMUTABLE_META = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

function specPart(r: { custom: boolean }, obj: KubeObject): unknown {
  if (!r.custom) return obj.spec;
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** apiserver's update rules: identity and deletion state stay, status and spec split by subresource, generation bumps. */
function applyUpdateRules(c: Call, current: KubeObject, desired: KubeObject, subresource: UpdateSubresource): KubeObject {
  const r = c.resource;
  let next: KubeObject;
  if (subresource === 'ephemeralcontainers') {
    next = structuredClone(current);
    const spec = (next.spec ?? {}) as Record<string, unknown>;
    const wanted = (desired.spec as Record<string, unknown> | undefined)?.ephemeralContainers;
    if (wanted === undefined) delete spec.ephemeralContainers;
    else spec.ephemeralContainers = wanted;
    next.spec = spec;
  } else if (subresource === 'status') {
    next = structuredClone(current);
    if (desired.status === undefined) delete next.status;
    else next.status = desired.status;
    const dm = meta(desired);
    if (Array.isArray(dm.managedFields)) meta(next).managedFields = dm.managedFields;
  } else {
    next = desired;
    if (subresource === '' && hasSubresource(r, 'status')) {
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
    }
  }
  const m = meta(next);
  const cm = meta(current);
  for (const k of IMMUTABLE_META) {
    if (cm[k] === undefined) delete m[k];
    else if (k !== 'uid' || m.uid === undefined || m.uid === '') m[k] = cm[k];
  }
  m.name = cm.name;
  if (r.namespaced) m.namespace = cm.namespace;
  else delete m.namespace;
  if (r.tracksGeneration) {
    const gen = typeof cm.generation === 'number' ? cm.generation : 1;
    m.generation = JSON.stringify(specPart(r, next)) !== JSON.stringify(specPart(r, current)) ? gen + 1 : gen;
  } else if (cm.generation !== undefined) m.generation = cm.generation;
  else delete m.generation;
  m.resourceVersion = cm.resourceVersion;
  return next;
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  // A shallow copy whose two left-out keys are undefined serializes as the object without them:
  // a deep clone of each object for this was 1.2 % of the server writing pod statuses.
  const strip = (o: KubeObject): string =>
    JSON.stringify(o.metadata ? { ...o, metadata: { ...o.metadata, managedFields: undefined, resourceVersion: undefined } } : o);
  return strip(a) === strip(b);
}

export async function updateObject(d: ApiDeps, c: Call, u: UpdateRequest): Promise<UpdateResult> {
  const r = c.resource;
  const name = c.info.name;
  const key = objectKey(r, c.info.namespace, name);
  for (let attempt = 0; ; attempt++) {
    const cur = await readCurrent(d.store, r, c.info.namespace, name);
    if (!cur) {
      if (!u.allowCreate) throw notFound(r, name);
      const desired = await u.transform(undefined);
      return { obj: await u.allowCreate(desired), created: true };
    }
    // The transform may change its argument: it gets its own decode of the stored bytes, which
    // costs less than a structuredClone of the decoded object.
    const desired = await u.transform(decodeStored(r, cur.kv));
    const dm = meta(desired);
    if (typeof dm.name === 'string' && dm.name !== '' && dm.name !== name) {
      throw badRequest(`the name of the object (${dm.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && typeof dm.namespace === 'string' && dm.namespace !== '' && dm.namespace !== c.info.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const precondition = typeof dm.resourceVersion === 'string' && dm.resourceVersion !== '' ? dm.resourceVersion : undefined;
    if (precondition !== undefined && precondition !== String(cur.kv.modRevision)) throw conflict(r, name);
    if (typeof dm.uid === 'string' && dm.uid !== '' && dm.uid !== metaString(cur.obj, 'uid')) {
      throw conflict(r, name, `Precondition failed: UID in precondition: ${dm.uid}, UID in object meta: ${metaString(cur.obj, 'uid')}`);
    }

    const next = applyUpdateRules(c, cur.obj, desired, u.subresource);
    const now = d.now();
    if (u.recordManager) recordUpdate(r, next, cur.obj, fieldManagerOf(c.query, c.req), rfc3339(now), u.subresource === 'binding' ? '' : u.subresource);
    // pods/binding is the scheduler's own write; the pod update validation (spec is immutable) does not apply.
    if (u.subresource === 'ephemeralcontainers') {
      // Defaulted first, so existing containers compare as stored. Only the ephemeral containers
      // changed: the pod's own update rules then see them as they are now.
      const defaults = r.builtin && present(r.builtin.defaults);
      defaults?.(next);
      const errs = validateEphemeralContainersUpdate(next, cur.obj);
      if (errs.length) throw invalid(r.kind, r.group, name, errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field })));
      const old = structuredClone(cur.obj);
      old.spec = { ...(old.spec as object), ephemeralContainers: (next.spec as Record<string, unknown>).ephemeralContainers };
      defaultAndValidate(c, next, old);
    } else if (u.subresource !== 'binding') defaultAndValidate(c, next, cur.obj);
    const hooks = hooksFor(r);
    const extra: TxnOp[] = hooks.beforeUpdate ? await hooks.beforeUpdate(d, next, cur.obj) : [];
    const preceding: TxnOp[] = hooks.precedingUpdateOps ? await hooks.precedingUpdateOps(d, next, cur.obj) : [];

    // An object being deleted goes away once its last finalizer is removed, unless a graceful
    // deletion is still running (genericregistry Store.shouldDeleteDuringUpdate: the agent ends
    // that one with a grace-0 delete once the containers stopped, so a pod whose foreground
    // cascade finished still stops gracefully). A kind may hold it with finalizers of its own (a
    // namespace's spec.finalizers, which the namespace controller removes only after emptying it),
    // so a status or label write meanwhile must not remove it.
    const cm = meta(cur.obj);
    const graceful = typeof cm.deletionGracePeriodSeconds === 'number' && cm.deletionGracePeriodSeconds > 0;
    const removeNow = Boolean(cm.deletionTimestamp) && !graceful && finalizersOf(next).length === 0 && kindFinalizers(r, next).length === 0;
    if (!removeNow && extra.length === 0 && preceding.length === 0 && sameObject(next, cur.obj)) return { obj: cur.obj, created: false };
    if (u.dryRun) return { obj: next, created: false };
    try {
      if (removeNow) {
        const more = hooks.beforeDelete ? await hooks.beforeDelete(d, cur.obj) : [];
        const kvs = await d.store.txn([{ op: 'delete', key, expectedModRevision: cur.kv.modRevision }, ...more]);
        hooks.afterWrite?.(d, name, undefined);
        const gone = structuredClone(next);
        meta(gone).resourceVersion = String(kvs[0]?.modRevision ?? cur.kv.modRevision);
        return { obj: gone, created: false };
      }
      const kvs = await d.store.txn([...preceding, { op: 'update', key, value: encodeForStore(r, next), expectedModRevision: cur.kv.modRevision, ...(r.ttlSeconds ? { ttlSeconds: r.ttlSeconds } : {}) }, ...extra]);
      const kv = kvs[preceding.length];
      if (!kv) throw new Error(`store txn returned no result for ${key}`);
      const stored = decodeStored(r, kv);
      hooks.afterWrite?.(d, name, stored);
      return { obj: stored, created: false };
    } catch (e) {
      if (e instanceof ConflictError && e.key === key && precondition === undefined && attempt < 8) continue;
      throw translateStoreError(e, r, name);
    }
  }
}

function kindFinalizers(r: ResourceInfo, obj: KubeObject): readonly unknown[] {
  const policy = r.builtin && present(r.builtin.deletion);
  return policy?.finalizers?.(obj) ?? [];
}
