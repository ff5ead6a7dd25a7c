/** coordination.k8s.io/v1 Lease: ValidateLease and printLease (HOLDER, "<unknown>" when unset). */
import { map, num, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = map(obj.spec) ?? {};
  const errs: FieldError[] = [];
  const duration = num(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0) errs.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = num(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0) errs.push(invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  return errs;
}

export const lease = defineKind({
  group: 'coordination.k8s.io',
  versions: ['v1'],
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    return [...(old ? validateObjectMetaUpdate(obj, old, true) : validateObjectMeta(obj, true)), ...validateSpec(obj)];
  },
  table: {
    columns: [NAME_COLUMN, col('Holder', 'HolderIdentity contains the identity of the holder of a current lease.'), AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), str(map(obj.spec)?.holderIdentity) ?? '<unknown>', ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
