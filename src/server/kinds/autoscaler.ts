/**
 * autoscaling/v2 HorizontalPodAutoscaler: SetDefaults_HorizontalPodAutoscaler (minReplicas 1, 80%
 * CPU when no metric is given), basic ValidateHorizontalPodAutoscaler checks and
 * printHorizontalPodAutoscaler (formatHPAMetrics for TARGETS).
 */
import { child, list, map, maps, num, setDefault, str, type JsonMap } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, required } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';

const validateMeta = metaValidator(true);

function quantity(v: unknown): string {
  return v === undefined || v === null ? '<unknown>' : String(v);
}

/** One metric's "current/target" text. */
function formatMetric(spec: JsonMap, status: JsonMap | undefined): string {
  const type = str(spec.type);
  switch (type) {
    case 'External':
    case 'Object': {
      const key = type === 'External' ? 'external' : 'object';
      const target = map(map(spec[key])?.target) ?? {};
      const current = map(map(status?.[key])?.current);
      if (target.averageValue !== undefined) return `${status?.[key] && current?.averageValue !== undefined ? String(current.averageValue) : '<unknown>'}/${String(target.averageValue)} (avg)`;
      return `${current ? quantity(current.value) : '<unknown>'}/${quantity(target.value)}`;
    }
    case 'Pods': {
      const target = map(map(spec.pods)?.target) ?? {};
      const current = map(map(status?.pods)?.current);
      return `${current ? quantity(current.averageValue) : '<unknown>'}/${quantity(target.averageValue)}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const key = type === 'Resource' ? 'resource' : 'containerResource';
      const source = map(spec[key]) ?? {};
      const target = map(source.target) ?? {};
      const current = map(map(status?.[key])?.current);
      const name = str(source.name) ?? '';
      if (target.averageValue !== undefined) return `${name}: ${current ? quantity(current.averageValue) : '<unknown>'}/${String(target.averageValue)}`;
      const utilization = num(current?.averageUtilization);
      const goal = num(target.averageUtilization);
      return `${name}: ${utilization !== undefined ? `${utilization}%` : '<unknown>'}/${goal !== undefined ? `${goal}%` : '<auto>'}`;
    }
    default:
      return '<unknown type>';
  }
}

/** formatHPAMetrics: at most two metrics, then " + N more...". */
export function formatHpaMetrics(specs: JsonMap[], statuses: JsonMap[]): string {
  if (specs.length === 0) return '<none>';
  const all = specs.map((s, i) => formatMetric(s, statuses[i]));
  return all.length > 2 ? `${all.slice(0, 2).join(', ')} + ${all.length - 2} more...` : all.join(', ');
}

export const horizontalPodAutoscaler = defineKind({
  group: 'autoscaling',
  versions: ['v2'],
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('autoscaling', 'v2', 'HorizontalPodAutoscaler')],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'minReplicas', 1);
    if (list(spec.metrics).length === 0)
      spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  },
  validate(obj, old) {
    const spec = map(obj.spec) ?? {};
    const errs: FieldError[] = validateMeta(obj, old);
    const ref = map(spec.scaleTargetRef) ?? {};
    if (!str(ref.kind)) errs.push(required('spec.scaleTargetRef.kind'));
    if (!str(ref.name)) errs.push(required('spec.scaleTargetRef.name'));
    const min = num(spec.minReplicas);
    const max = num(spec.maxReplicas);
    if (min !== undefined && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
    if (max === undefined) errs.push(required('spec.maxReplicas'));
    else if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
    else if (min !== undefined && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Reference', 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
      col('Targets', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
      col('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
      { name: 'MaxPods', type: 'string', description: 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.', priority: 0 },
      { name: 'Replicas', type: 'string', description: 'currentReplicas is current number of replicas of pods managed by this autoscaler.', priority: 0 },
      AGE_COLUMN,
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      const status = map(obj.status) ?? {};
      const ref = map(spec.scaleTargetRef) ?? {};
      const min = num(spec.minReplicas);
      return [
        nameOf(obj),
        `${str(ref.kind) ?? ''}/${str(ref.name) ?? ''}`,
        formatHpaMetrics(maps(spec.metrics), maps(status.currentMetrics)),
        min !== undefined ? String(min) : '<unset>',
        num(spec.maxReplicas) ?? 0,
        num(status.currentReplicas) ?? 0,
        ageOf(obj, now),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ metrics: atomic() }), status: struct({ conditions: atomic(), currentMetrics: atomic() }) }),
  protobuf: [{ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', message: 'autoscaling.HorizontalPodAutoscaler' }],
  conversion: NO_CONVERSION,
});
