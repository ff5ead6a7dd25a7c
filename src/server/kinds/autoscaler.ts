/**
 * autoscaling/v2 HorizontalPodAutoscaler, also served as autoscaling/v1 (autoscaler-v1.ts converts):
 * SetDefaults_HorizontalPodAutoscaler (minReplicas 1, 80% CPU when no metric is given, behavior
 * rules completed), ValidateHorizontalPodAutoscaler's checks of the target, replica bounds, metrics
 * and behavior, and printHorizontalPodAutoscaler (formatHPAMetrics for TARGETS). The autoscaler
 * controller (src/server/controllers/autoscaler) acts on them.
 */
import { child, list, map, maps, num, setDefault, str, type JsonMap } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, notSupported, required } from './field-errors.ts';
import { autoscalingV1Conversion } from './autoscaler-v1.ts';
import { scaleDownRules, scaleUpRules } from './autoscaler-behavior.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO } from './define.ts';
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

const METRIC_SOURCES: Readonly<Record<string, string>> = { Resource: 'resource', ContainerResource: 'containerResource', Pods: 'pods', Object: 'object', External: 'external' };

/** validateMetricSpec and validateMetricTarget: a known type with its source, a target of a known type with its value. */
function validateMetric(m: JsonMap, path: string): FieldError[] {
  const type = str(m.type) ?? '';
  const key = METRIC_SOURCES[type];
  if (!key) return [type ? notSupported(`${path}.type`, type, Object.keys(METRIC_SOURCES)) : required(`${path}.type`)];
  const source = map(m[key]);
  if (!source) return [required(`${path}.${key}`)];
  const errs: FieldError[] = [];
  if ((type === 'Resource' || type === 'ContainerResource') && !str(source.name)) errs.push(required(`${path}.${key}.name`));
  if (type === 'ContainerResource' && !str(source.container)) errs.push(required(`${path}.${key}.container`));
  const target = map(source.target);
  if (!target) return [...errs, required(`${path}.${key}.target`)];
  const ttype = str(target.type) ?? '';
  const tpath = `${path}.${key}.target`;
  if (!['Utilization', 'Value', 'AverageValue'].includes(ttype)) errs.push(ttype ? notSupported(`${tpath}.type`, ttype, ['AverageValue', 'Utilization', 'Value']) : required(`${tpath}.type`));
  else if (ttype === 'Utilization' && target.averageUtilization === undefined) errs.push(required(`${tpath}.averageUtilization`));
  else if (ttype === 'Utilization' && (num(target.averageUtilization) ?? 0) < 1) errs.push(invalid(`${tpath}.averageUtilization`, target.averageUtilization, 'must be greater than 0'));
  else if (ttype === 'Value' && target.value === undefined) errs.push(required(`${tpath}.value`));
  else if (ttype === 'AverageValue' && target.averageValue === undefined) errs.push(required(`${tpath}.averageValue`));
  if (ttype === 'Utilization' && type !== 'Resource' && type !== 'ContainerResource') errs.push(invalid(`${tpath}.type`, ttype, 'must be either Value or AverageValue'));
  return errs;
}

export const horizontalPodAutoscaler = defineKind({
  group: 'autoscaling',
  versions: ['v2', 'v1'],
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
    const behavior = map(spec.behavior);
    if (behavior) {
      behavior.scaleUp = scaleUpRules(behavior);
      behavior.scaleDown = scaleDownRules(behavior);
    }
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
    maps(spec.metrics).forEach((m, i) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
    const behavior = map(spec.behavior);
    for (const dir of ['scaleUp', 'scaleDown'] as const) {
      const rules = map(behavior?.[dir]);
      if (!rules) continue;
      const path = `spec.behavior.${dir}`;
      const window = num(rules.stabilizationWindowSeconds);
      if (window !== undefined && (window < 0 || window > 3600)) errs.push(invalid(`${path}.stabilizationWindowSeconds`, window, window < 0 ? 'must be greater than or equal to zero' : 'must be less than or equal to 3600'));
      const select = str(rules.selectPolicy);
      if (select !== undefined && !['Max', 'Min', 'Disabled'].includes(select)) errs.push(notSupported(`${path}.selectPolicy`, select, ['Disabled', 'Max', 'Min']));
      maps(rules.policies).forEach((p, j) => {
        const pp = `${path}.policies[${j}]`;
        if (!['Pods', 'Percent'].includes(str(p.type) ?? '')) errs.push(notSupported(`${pp}.type`, str(p.type) ?? '', ['Percent', 'Pods']));
        const v = num(p.value) ?? 0;
        if (v <= 0) errs.push(invalid(`${pp}.value`, v, 'must be greater than zero'));
        const period = num(p.periodSeconds) ?? 0;
        if (period <= 0) errs.push(invalid(`${pp}.periodSeconds`, period, 'must be greater than zero'));
        else if (period > 1800) errs.push(invalid(`${pp}.periodSeconds`, period, 'must be less than or equal to 1800'));
      });
    }
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
  protobuf: K8S_API_PROTO,
  conversion: autoscalingV1Conversion,
});
