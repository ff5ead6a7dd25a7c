/**
 * HorizontalPodAutoscaler `behavior` with upstream's defaults filled in
 * (pkg/apis/autoscaling/v2/defaults.go, GenerateHPAScaleUpRules/GenerateHPAScaleDownRules): scale
 * up at once (no stabilization) by at most 4 pods or 100% per 15 s, whichever is more; scale down
 * after a 300 s stabilization window by up to 100% per 15 s. The API applies them when a behavior is
 * given; the autoscaler controller uses them for an HPA without one.
 */
import { map, maps, num, str, type JsonMap } from './access.ts';

export interface ScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  /** Max, Min or Disabled. */
  readonly selectPolicy: string;
  readonly policies: readonly ScalingPolicy[];
}

const SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};
const SCALE_DOWN: ScalingRules = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function rules(given: JsonMap | undefined, defaults: ScalingRules): ScalingRules {
  if (!given) return defaults;
  const policies = maps(given.policies).map((p) => ({ type: str(p.type) === 'Pods' ? 'Pods' : 'Percent', value: num(p.value) ?? 0, periodSeconds: num(p.periodSeconds) ?? 0 }) as const);
  return {
    stabilizationWindowSeconds: num(given.stabilizationWindowSeconds) ?? defaults.stabilizationWindowSeconds,
    selectPolicy: str(given.selectPolicy) ?? defaults.selectPolicy,
    policies: policies.length ? policies : defaults.policies,
  };
}

export function scaleUpRules(behavior: unknown): ScalingRules {
  return rules(map(map(behavior)?.scaleUp), SCALE_UP);
}

export function scaleDownRules(behavior: unknown): ScalingRules {
  return rules(map(map(behavior)?.scaleDown), SCALE_DOWN);
}
