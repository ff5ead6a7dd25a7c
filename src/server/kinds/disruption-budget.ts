/**
 * policy/v1 PodDisruptionBudget: ValidatePodDisruptionBudgetSpec (minAvailable xor maxUnavailable)
 * and printPodDisruptionBudget ("N/A" for the unset bound).
 */
import { map, num } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid } from './field-errors.ts';
import { validatePositiveIntOrPercent } from './int-or-percent.ts';
import { validateLabelSelector } from './label-selector.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, conditions, labelSelector } from '../patch/merge-keys-core.ts';
import { map as mapSchema, struct } from '../patch/merge-keys.ts';

const validateMeta = metaValidator(true);

function bound(v: unknown): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

export const podDisruptionBudget = defineKind({
  group: 'policy',
  versions: ['v1'],
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  namespaced: true,
  shortNames: ['pdb'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource('policy', 'v1', 'PodDisruptionBudget')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    const spec = map(obj.spec) ?? {};
    const errs: FieldError[] = [...validateMeta(obj, old), ...validateLabelSelector(spec.selector, 'spec.selector')];
    const hasMin = spec.minAvailable !== undefined && spec.minAvailable !== null;
    const hasMax = spec.maxUnavailable !== undefined && spec.maxUnavailable !== null;
    if (hasMin && hasMax) errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
    errs.push(...validatePositiveIntOrPercent(spec.minAvailable, 'spec.minAvailable'));
    errs.push(...validatePositiveIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Min Available', 'The minimum number of pods that must be available simultaneously.'),
      col('Max Unavailable', 'The maximum number of pods that may be unavailable simultaneously.'),
      { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', priority: 0 },
      AGE_COLUMN,
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      return [nameOf(obj), bound(spec.minAvailable), bound(spec.maxUnavailable), num(map(obj.status)?.disruptionsAllowed) ?? 0, ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ selector: labelSelector }), status: struct({ conditions, disruptedPods: mapSchema() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
