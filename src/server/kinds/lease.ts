/** coordination.k8s.io/v1 Lease: ValidateLease and printLease (HOLDER, "<unknown>" when unset). */
import { map, num, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KindBehavior, KubeObject } from './types.ts';

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = map(obj.spec) ?? {};
  const errs: FieldError[] = [];
  const duration = num(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0) errs.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = num(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0) errs.push(invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  return errs;
}

export const leaseBehavior: KindBehavior = {
  validate(obj, old) {
    return [...(old ? validateObjectMetaUpdate(obj, old, true) : validateObjectMeta(obj, true)), ...validateSpec(obj)];
  },
  table: {
    columns: [NAME_COLUMN, col('Holder', 'HolderIdentity contains the identity of the holder of a current lease.'), AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), str(map(obj.spec)?.holderIdentity) ?? '<unknown>', ageOf(obj, now)];
    },
  },
};
