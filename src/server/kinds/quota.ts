/**
 * core/v1 ResourceQuota (printResourceQuota: REQUEST and LIMIT as "name: used/hard" lists) and
 * LimitRange (CREATED AT), with quantity checks on their declared amounts.
 */
import { map, str } from './access.ts';
import { AGE_COLUMN, CREATED_AT_TABLE, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, required } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import { quantityError } from '../../common/quantity.ts';
import type { FieldError } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic, map as mapSchema, struct } from '../patch/merge-keys.ts';

const validateMeta = metaValidator(true);

function validateAmounts(values: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, v] of Object.entries(map(values) ?? {})) {
    const problem = typeof v === 'number' ? undefined : quantityError(String(v));
    if (problem) errs.push(invalid(`${path}[${name}]`, v, problem));
  }
  return errs;
}

export const resourceQuota = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  namespaced: true,
  shortNames: ['quota'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource('', 'v1', 'ResourceQuota')],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    return [...validateMeta(obj, old), ...validateAmounts(map(obj.spec)?.hard, 'spec.hard')];
  },
  table: {
    columns: [
      NAME_COLUMN,
      AGE_COLUMN,
      col('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    row(obj, now) {
      const status = map(obj.status) ?? {};
      const hard = map(status.hard) ?? {};
      const used = map(status.used) ?? {};
      const request: string[] = [];
      const limit: string[] = [];
      for (const name of Object.keys(hard).sort()) {
        const text = `${name}: ${String(used[name] ?? '0')}/${String(hard[name])}`;
        (name.startsWith('limits.') ? limit : request).push(text);
      }
      return [nameOf(obj), ageOf(obj, now), request.join(', '), limit.join(', ')];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ hard: mapSchema(), scopes: atomic() }), status: struct({ hard: mapSchema(), used: mapSchema() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

export const limitRange = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'LimitRange',
  plural: 'limitranges',
  namespaced: true,
  shortNames: ['limits'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    const errs = validateMeta(obj, old);
    const limits = Array.isArray(map(obj.spec)?.limits) ? (map(obj.spec)?.limits as unknown[]) : [];
    limits.forEach((l, i) => {
      const item = map(l) ?? {};
      if (!str(item.type)) errs.push(required(`spec.limits[${i}].type`));
      for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'])
        errs.push(...validateAmounts(item[key], `spec.limits[${i}].${key}`));
    });
    return errs;
  },
  table: CREATED_AT_TABLE,
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ limits: atomic() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
