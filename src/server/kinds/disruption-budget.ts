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
import type { FieldError, KindBehavior } from './types.ts';

const validateMeta = metaValidator(true);

function bound(v: unknown): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

export const podDisruptionBudgetBehavior: KindBehavior = {
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
};
