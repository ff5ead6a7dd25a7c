/**
 * metadata.managedFields bookkeeping (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager and
 * sigs.k8s.io/structured-merge-diff merge.Updater): who owns which fields, and what an Update
 * (create, update, non-apply patch) does to ownership.
 */
import type { KubeObject } from '../kinds/types.ts';
import { compareFields, allFields } from './field-walk.ts';
import { fieldElement, isWithin, joinPath, type FieldPath } from './field-path.ts';
import { difference, fromFieldsV1, toFieldsV1, union } from './field-set.ts';
import { isObject, type JsonObject } from './json-value.ts';
import { schemaFor } from './kind-schema.ts';
import type { GroupVersionKind } from './types.ts';

export type ManagedFieldsOperation = 'Apply' | 'Update';

/** meta/v1 ManagedFieldsEntry as JSON. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/** An entry with its set decoded. */
export interface Owner {
  readonly manager: string;
  readonly operation: ManagedFieldsOperation;
  readonly apiVersion: string;
  readonly subresource: string;
  time: string;
  fields: Set<FieldPath>;
}

// Fields no manager owns: identity and server-maintained metadata (fieldmanager stripmeta.go).
const ignoredMeta = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields'];
const ignoredRoots = [
  fieldElement('apiVersion'),
  fieldElement('kind'),
  ...ignoredMeta.map((f) => joinPath(fieldElement('metadata'), fieldElement(f))),
];

/** Drop identity fields (and, for the main resource, status, which its own subresource owns). */
export function withoutIgnored(set: Iterable<FieldPath>, ignoreStatus: boolean): Set<FieldPath> {
  const roots = ignoreStatus ? [...ignoredRoots, fieldElement('status')] : ignoredRoots;
  return new Set([...set].filter((p) => !roots.some((r) => isWithin(p, r))));
}

export function apiVersionOf(gvk: GroupVersionKind): string {
  return gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
}

/** The two entries are the same manager identity (manager, operation, subresource; version too for Update). */
export function sameIdentity(a: Owner, b: Pick<Owner, 'manager' | 'operation' | 'subresource' | 'apiVersion'>): boolean {
  return a.manager === b.manager && a.operation === b.operation && a.subresource === b.subresource && (a.operation === 'Apply' || a.apiVersion === b.apiVersion);
}

/**
 * The owners recorded on a stored object. An object that exists but has no managedFields (created
 * before tracking) gets one "before-first-apply" Update owner of all its fields, as Kubernetes does.
 */
export function ownersOf(obj: KubeObject | undefined, gvk: GroupVersionKind, now: string): Owner[] {
  if (!obj) return [];
  const raw = obj.metadata?.managedFields;
  if (!Array.isArray(raw) || raw.length === 0) {
    const fields = withoutIgnored(allFields(obj, schemaFor(gvk)), false);
    if (fields.size === 0) return [];
    return [{ manager: 'before-first-apply', operation: 'Update', apiVersion: apiVersionOf(gvk), subresource: '', time: now, fields }];
  }
  const owners: Owner[] = [];
  for (const e of raw) {
    if (!isObject(e) || typeof e.manager !== 'string') continue;
    owners.push({
      manager: e.manager,
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : apiVersionOf(gvk),
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      time: typeof e.time === 'string' ? e.time : now,
      fields: fromFieldsV1(e.fieldsV1),
    });
  }
  return owners;
}

/**
 * Encode owners as managedFields, dropping empty ones, sorted like the apiserver does
 * (sortEncodedManagedFields: operation, time, manager, apiVersion, subresource).
 */
export function encodeOwners(owners: readonly Owner[]): ManagedFieldsEntry[] {
  return owners
    .filter((o) => o.fields.size > 0)
    .sort((a, b) =>
      cmp(a.operation, b.operation) || cmp(Date.parse(a.time) || 0, Date.parse(b.time) || 0) ||
      cmp(a.manager, b.manager) || cmp(a.apiVersion, b.apiVersion) || cmp(a.subresource, b.subresource))
    .map((o) => ({
      manager: o.manager,
      operation: o.operation,
      apiVersion: o.apiVersion,
      time: o.time,
      fieldsType: 'FieldsV1' as const,
      fieldsV1: toFieldsV1(o.fields),
      ...(o.subresource ? { subresource: o.subresource } : {}),
    }));
}

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * managedFields after a create, update or non-apply patch by `manager`: it becomes owner of every
 * field it added or changed (taking it from other owners: an Update never conflicts), and removed
 * fields leave every owner. `before` undefined is a create. `after`'s own managedFields are ignored.
 */
export function recordUpdate(
  manager: string,
  operation: 'Update',
  before: KubeObject | undefined,
  after: KubeObject,
  gvk: GroupVersionKind,
  now: string,
  subresource = '',
): ManagedFieldsEntry[] {
  const schema = schemaFor(gvk);
  const owners = ownersOf(before, gvk, now);
  const { changed, removed } = compareFields(before, after, schema);
  const taken = withoutIgnored(changed, false);
  const gone = withoutIgnored(removed, false);
  const identity = { manager, operation, subresource, apiVersion: apiVersionOf(gvk) };
  for (const o of owners) {
    if (sameIdentity(o, identity)) continue;
    o.fields = difference(difference(o.fields, taken), gone);
  }
  const mine = owners.find((o) => sameIdentity(o, identity));
  if (mine) {
    const next = difference(union(mine.fields, taken), gone);
    if (taken.size > 0) mine.time = now;
    mine.fields = next;
  } else if (taken.size > 0) {
    owners.push({ ...identity, time: now, fields: taken });
  }
  return encodeOwners(owners);
}
