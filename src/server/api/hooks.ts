/**
 * The write hooks of a resource's kind (its descriptor's `hooks`; none for custom resources), with
 * a hook's refusal of a field answered as 422 Invalid for that kind, as validation errors are.
 */
import { FieldRejectedError } from '../kinds/field-errors.ts';
import { present } from '../kinds/types.ts';
import type { KubeObject, WriteHooks } from '../kinds/types.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { invalid } from '../storage/status.ts';

const cache = new WeakMap<ResourceInfo, WriteHooks>();

function nameOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  return typeof name === 'string' ? name : '';
}

function rejected<T>(r: ResourceInfo, obj: KubeObject, run: () => Promise<T>): Promise<T> {
  return run().catch((err: unknown) => {
    if (err instanceof FieldRejectedError) throw invalid(r.kind, r.group, nameOf(obj), err.errors);
    throw err;
  });
}

export function hooksFor(r: ResourceInfo): WriteHooks {
  let hooks = cache.get(r);
  if (hooks) return hooks;
  const own = (r.builtin && present(r.builtin.hooks)) ?? {};
  const { beforeCreate, beforeUpdate, precedingUpdateOps } = own;
  hooks = { ...own };
  if (precedingUpdateOps) hooks.precedingUpdateOps = (ctx, obj, old) => rejected(r, obj, () => precedingUpdateOps(ctx, obj, old));
  if (beforeCreate) hooks.beforeCreate = (ctx, obj) => rejected(r, obj, () => beforeCreate(ctx, obj));
  if (beforeUpdate) hooks.beforeUpdate = (ctx, obj, old) => rejected(r, obj, () => beforeUpdate(ctx, obj, old));
  cache.set(r, hooks);
  return hooks;
}
