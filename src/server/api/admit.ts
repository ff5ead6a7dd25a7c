/**
 * Defaulting and validation of a write, as apiserver's strategies do: the kind's descriptor
 * (src/server/kinds) defaults then validates; kinds without one (custom resources) get the generic
 * ObjectMeta validation. Errors are 422 Invalid with details.causes (kubectl-wire.md §0).
 */
import { validateObjectMeta, validateObjectMetaUpdate } from '../kinds/object-meta.ts';
import { present } from '../kinds/types.ts';
import type { FieldError, KubeObject } from '../kinds/types.ts';
import type { Call } from './context.ts';
import { convertsForm, fromBehaviorForm, toBehaviorForm } from '../storage/convert.ts';
import { crSchemaErrors } from './crds/cr-schema.ts';
import { metaString } from '../storage/objects.ts';
import { invalid } from '../storage/status.ts';

// Finalizers Kubernetes itself uses without a domain (apimachinery's standard finalizers).
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** apiserver's warning for finalizer names without a domain (ValidateFinalizerName warnings, 1.28+). */
function finalizerWarnings(obj: KubeObject, old: KubeObject | undefined, warnings: string[]): void {
  const before = new Set(Array.isArray(old?.metadata?.finalizers) ? (old.metadata.finalizers as unknown[]) : []);
  const list = obj.metadata?.finalizers;
  if (!Array.isArray(list)) return;
  for (const f of list) {
    if (typeof f !== 'string' || f.includes('/') || STANDARD_FINALIZERS.has(f) || before.has(f)) continue;
    warnings.push(`metadata.finalizers: "${f}": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers`);
  }
}

export function defaultAndValidate(c: Call, obj: KubeObject, old: KubeObject | undefined): void {
  const r = c.resource;
  finalizerWarnings(obj, old, c.warnings);
  const defaults = r.builtin && present(r.builtin.defaults);
  const validate = r.builtin && present(r.builtin.validate);
  if (r.builtin && convertsForm(r)) {
    // events.k8s.io Events: default and validate the stored core form, then map back.
    const form = toBehaviorForm(r, obj);
    defaults?.(form);
    const errs = validate?.(form, old ? toBehaviorForm(r, old) : undefined) ?? [];
    const back = fromBehaviorForm(r, form, obj.apiVersion);
    for (const k of Object.keys(obj)) delete obj[k];
    Object.assign(obj, back);
    if (errs.length > 0) throw invalid(r.kind, r.group, metaString(obj, 'name'), errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field })));
    return;
  }
  defaults?.(obj);
  let errs: FieldError[];
  if (validate) errs = validate(obj, old);
  else errs = old ? validateObjectMetaUpdate(obj, old, r.namespaced) : validateObjectMeta(obj, r.namespaced);
  if (r.custom) errs.push(...crSchemaErrors(obj, r.schema));
  if (errs.length > 0) {
    throw invalid(r.kind, r.group, metaString(obj, 'name'), errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field })));
  }
}
