/**
 * From the metrics' recommendation to the replicas to set, as upstream's
 * normalizeDesiredReplicasWithBehaviors (pkg/controller/podautoscaler/horizontal.go): stabilize
 * over the recommendations of the scale-up and scale-down windows, then limit the rate by the
 * `behavior` policies (the changes made within each policy's period) and by min/max replicas.
 * Each decision comes with the reason and message upstream puts in AbleToScale and ScalingLimited.
 */
import type { ScalingRules } from '../../kinds/autoscaler-behavior.ts';

export interface Recommendation {
  readonly at: number;
  readonly replicas: number;
}

export interface ScaleEvent {
  readonly at: number;
  /** Replicas added (scale-up) or removed (scale-down). */
  readonly change: number;
}

/** What the controller remembers of one HPA between syncs (upstream keeps it in memory too). */
export interface AutoscalerMemory {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export interface NormalizeInput {
  readonly now: number;
  readonly current: number;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly up: ScalingRules;
  readonly down: ScalingRules;
}

export interface Normalized {
  readonly replicas: number;
  readonly ableToScale: { readonly reason: string; readonly message: string };
  readonly scalingLimited: { readonly limited: boolean; readonly reason: string; readonly message: string };
}

function stabilize(m: AutoscalerMemory, a: NormalizeInput): { replicas: number; reason: string; message: string } {
  const upCutoff = a.now - a.up.stabilizationWindowSeconds * 1000;
  const downCutoff = a.now - a.down.stabilizationWindowSeconds * 1000;
  let up = a.desired;
  let down = a.desired;
  let oldIndex = -1;
  m.recommendations.forEach((r, i) => {
    if (r.at > upCutoff) up = Math.min(r.replicas, up);
    if (r.at > downCutoff) down = Math.max(r.replicas, down);
    if (r.at < upCutoff && r.at < downCutoff) oldIndex = i;
  });
  let replicas = a.current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  const rec = { at: a.now, replicas: a.desired };
  if (oldIndex >= 0) m.recommendations[oldIndex] = rec;
  else m.recommendations.push(rec);
  return a.desired >= a.current
    ? { replicas, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
    : { replicas, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
}

function changedInPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((a, e) => a + e.change, 0);
}

function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changedInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current + changedInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function limitRate(m: AutoscalerMemory, a: NormalizeInput): { replicas: number; reason: string; message: string } {
  if (a.desired > a.current) {
    const limit = Math.max(scaleUpLimit(a.current, m.scaleUpEvents, a.up, a.now), a.current);
    const byRate = a.max > limit;
    const allowed = byRate ? limit : a.max;
    const why = byRate
      ? { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
      : { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    if (a.desired > allowed) return { replicas: allowed, ...why };
  } else if (a.desired < a.current) {
    const limit = Math.min(scaleDownLimit(a.current, m.scaleDownEvents, a.down, a.now), a.current);
    const byRate = a.min < limit;
    const allowed = byRate ? limit : a.min;
    const why = byRate
      ? { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
      : { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    if (a.desired < allowed) return { replicas: allowed, ...why };
  }
  return { replicas: a.desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

export function normalizeWithBehavior(m: AutoscalerMemory, a: NormalizeInput): Normalized {
  const stable = stabilize(m, a);
  const ableToScale = stable.replicas !== a.desired ? { reason: stable.reason, message: stable.message } : { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
  const limited = limitRate(m, { ...a, desired: stable.replicas });
  return { replicas: limited.replicas, ableToScale, scalingLimited: { limited: limited.replicas !== stable.replicas, reason: limited.reason, message: limited.message } };
}

/** Remembers a rescale for the rate limits; events older than the longest policy period are dropped. */
export function recordScaleEvent(m: AutoscalerMemory, a: Pick<NormalizeInput, 'now' | 'up' | 'down'>, from: number, to: number): void {
  const longest = (r: ScalingRules) => Math.max(0, ...r.policies.map((p) => p.periodSeconds)) * 1000;
  m.scaleUpEvents = m.scaleUpEvents.filter((e) => e.at > a.now - longest(a.up));
  m.scaleDownEvents = m.scaleDownEvents.filter((e) => e.at > a.now - longest(a.down));
  if (to > from) m.scaleUpEvents.push({ at: a.now, change: to - from });
  else if (to < from) m.scaleDownEvents.push({ at: a.now, change: from - to });
}
