/**
 * Server-side apply (structured-merge-diff merge.Updater.Apply as kube-apiserver runs it): merge the
 * applied configuration into the live object, remove fields this manager applied before and no
 * longer sets (unless someone else owns them), refuse to change fields other managers own with a
 * different value unless forced, and record the manager's Apply entry in managedFields.
 *
 * Limits: managers recorded under another apiVersion are compared path for path (no conversion);
 * resetting of fields by kind strategies is reduced to ignoring `status` on the main resource.
 */
import type { KubeObject } from '../kinds/types.ts';
import { mergeApplied, removeFields } from './apply-merge.ts';
import { ApplyRequestError } from './errors.ts';
import { appliedFields, compareFields } from './field-walk.ts';
import { formatPath, isWithin, splitPath, type FieldPath } from './field-path.ts';
import { difference, intersection, union } from './field-set.ts';
import { isObject, type JsonObject } from './json-value.ts';
import { encodeOwners, ownersOf, sameIdentity, withoutIgnored, apiVersionOf, type Owner } from './managed-fields.ts';
import { schemaFor } from './kind-schema.ts';
import type { ApplyConflict, ApplyRequest, ApplyResult } from './types.ts';

export function serverSideApply(req: ApplyRequest): ApplyResult {
  if (req.manager === '') throw new ApplyRequestError('PATCH requests with application/apply-patch+yaml require fieldManager');
  if (!isObject(req.applied)) throw new ApplyRequestError('the apply configuration must be an object');
  if (req.applied.metadata?.managedFields !== undefined) throw new ApplyRequestError('metadata.managedFields must be nil');
  const schema = schemaFor(req.gvk);
  const apiVersion = apiVersionOf(req.gvk);

  const applied = applicableFields(req.applied as JsonObject);
  const appliedSet = withoutIgnored(appliedFields(applied, schema), true);
  const live = req.live as JsonObject | undefined;
  const owners = ownersOf(req.live, req.gvk, req.now);
  const identity = { manager: req.manager, operation: 'Apply' as const, subresource: '', apiVersion };
  const mine = owners.find((o) => sameIdentity(o, identity));
  const others = owners.filter((o) => o !== mine);

  const merged = mergeApplied(live ?? {}, applied, schema);
  // Fields this manager applied last time and no longer applies go, unless another manager owns
  // them or something below them.
  const othersFields = others.reduce<Set<FieldPath>>((acc, o) => union(acc, o.fields), new Set());
  const released = difference(mine?.fields ?? new Set(), appliedSet);
  const prune = [...released].filter((p) => !isKeyField(p) && ![...othersFields].some((q) => isWithin(q, p)));
  removeFields(merged, prune, schema);

  const { changed, removed } = compareFields(live, merged, schema);
  const conflicts: ApplyConflict[] = [];
  for (const o of others) {
    for (const path of [...intersection(o.fields, changed)].sort()) {
      conflicts.push({ manager: o.manager, field: formatPath(path), apiVersion: o.apiVersion, message: `conflict with ${describeOwner(o)}` });
    }
  }
  if (conflicts.length > 0 && !req.force) return { ok: false, conflicts };

  for (const o of others) o.fields = difference(difference(o.fields, changed), removed);
  // The entry's time moves only when the object changed (managedFieldsUpdater.Apply).
  const unchanged = mine !== undefined && changed.size === 0 && removed.size === 0;
  const next: Owner = { ...identity, time: unchanged ? mine.time : req.now, fields: appliedSet };
  const managedFields = encodeOwners([...others, next]);
  const metadata = isObject(merged.metadata) ? merged.metadata : {};
  merged.metadata = { ...metadata, managedFields };
  return { ok: true, object: merged as KubeObject };
}

// Server-maintained metadata is never taken from a configuration (a resourceVersion in it is a
// precondition the API checks before applying).
const serverMetadata = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/** The configuration without what apply never sets: status on the main resource (its subresource owns it, as the kinds' strategies reset it) and server-maintained metadata. */
function applicableFields(config: JsonObject): JsonObject {
  const { status: _status, ...rest } = config;
  if (!isObject(rest.metadata)) return rest;
  const metadata = { ...rest.metadata };
  for (const k of serverMetadata) delete metadata[k];
  return { ...rest, metadata };
}

/**
 * A key field of an associative list item (`…k:{"name":"B"}.f:name`) goes only with its item: an
 * item kept because someone else owns part of it keeps its identity.
 */
function isKeyField(path: FieldPath): boolean {
  const elements = splitPath(path);
  const last = elements.at(-1);
  const parent = elements.at(-2);
  if (!last?.startsWith('f:') || !parent?.startsWith('k:')) return false;
  const key: unknown = JSON.parse(parent.slice(2));
  return isObject(key) && Object.hasOwn(key, last.slice(2));
}

/** printManager in k8s.io/apiserver fieldmanager/internal/conflict.go. */
function describeOwner(o: Owner): string {
  let s = JSON.stringify(o.manager);
  if (o.subresource) s += ` with subresource ${JSON.stringify(o.subresource)}`;
  if (o.operation === 'Update') s += ` using ${o.apiVersion}`;
  return s;
}

/**
 * The Status message of a 409 apply conflict (getConflictMessage), which kubectl prints after
 * "error: ": one conflict inline, several grouped by manager.
 */
export function applyConflictMessage(conflicts: readonly ApplyConflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0] as ApplyConflict;
    return `Apply failed with 1 conflict: ${c.message ?? `conflict with ${JSON.stringify(c.manager)}`}: ${c.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const head = (c.message ?? `conflict with ${JSON.stringify(c.manager)}`).replace(/^conflict with /, 'conflicts with ');
    byManager.set(head, [...(byManager.get(head) ?? []), c.field]);
  }
  const lines: string[] = [];
  for (const head of [...byManager.keys()].sort()) {
    lines.push(`${head}:`, ...(byManager.get(head) ?? []).map((f) => `- ${f}`));
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
