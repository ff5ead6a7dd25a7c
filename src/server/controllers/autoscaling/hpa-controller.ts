/**
 * The horizontal pod autoscaler controller (pkg/controller/podautoscaler): every 15 s each
 * HorizontalPodAutoscaler reads its target's scale subresource (Deployments, ReplicaSets,
 * StatefulSets, anything that serves one), its pods, and their usage from metrics.k8s.io, which
 * the server samples from the agents on demand and shares between readers (one sample per node per
 * 10 s, whatever the number of HPAs); then it computes the replicas for each Resource metric
 * (replica-calculator.ts), normalizes them with `behavior` (behavior.ts) and writes the scale.
 * Status, conditions (AbleToScale, ScalingActive, ScalingLimited) and Events are upstream's, so
 * `kubectl describe hpa` reads the same. Resource and ContainerResource metrics (CPU, memory) are
 * served; Pods, Object and External metrics need a custom or external metrics API, which edgeos
 * does not serve: such a metric is invalid with upstream's reason (FailedGetPodsMetric & co.) and a
 * message naming the missing API, as upstream reports it when no adapter is registered.
 */
import { errorMessage } from '../../../common/errors.ts';
import { parseQuantity } from '../../../common/quantity.ts';
import { horizontalPodAutoscaler } from '../../kinds/autoscaler.ts';
import { scaleDownRules, scaleUpRules } from '../../kinds/autoscaler-behavior.ts';
import { createDiscoveryCache } from '../discovery-cache.ts';
import { objectKey, splitKey } from '../keys.ts';
import type { Controller, ControllerContext, KubeObject, ResourceRef, WorkQueue } from '../types.ts';
import { inNamespace, resources } from '../types.ts';
import { queueController } from '../workloads/queue-controller.ts';
import { parseTime, rfc3339 } from '../workloads/timestamps.ts';
import { normalizeWithBehavior, recordScaleEvent } from './behavior.ts';
import type { AutoscalerMemory } from './behavior.ts';
import { ReplicaCalculationError, resourceReplicas } from './replica-calculator.ts';
import type { PodInfo, PodMetric, ResourceTarget } from './replica-calculator.ts';

/** --horizontal-pod-autoscaler-sync-period. */
export const HPA_SYNC_PERIOD_MS = 15_000;

const HPAS: ResourceRef = { group: horizontalPodAutoscaler.group, version: horizontalPodAutoscaler.versions[0] ?? 'v2', resource: horizontalPodAutoscaler.plural };
const POD_METRICS: ResourceRef = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Metric values are milli-units (CPU millicores, memory milli-bytes), as upstream's metrics client keeps them. */
const milli = (q: unknown): number => Math.round(parseQuantity(typeof q === 'number' ? q : str(q) || '0') * 1000);
const milliQuantity = (m: number): string => (Math.round(m) % 1000 === 0 ? String(Math.round(m) / 1000) : `${Math.round(m)}m`);

/** The pod's request for the resource: all containers', or one container's (ContainerResource). */
function podInfo(p: KubeObject, resource: string, container?: string): PodInfo {
  const spec = obj(p.spec);
  const status = obj(p.status);
  let request: number | undefined = 0;
  let missing: string | undefined;
  for (const c of arr(spec.containers).filter((x) => container === undefined || x.name === container)) {
    const r = obj(obj(c.resources).requests)[resource];
    if (r === undefined) {
      request = undefined;
      missing ??= str(c.name);
    } else if (request !== undefined) request += milli(r);
  }
  const ready = arr(status.conditions).find((c) => c.type === 'Ready');
  return {
    name: p.metadata.name ?? '',
    phase: str(status.phase),
    deleting: !!p.metadata.deletionTimestamp,
    startTime: parseTime(status.startTime),
    ready: ready ? { status: ready.status === 'True', lastTransitionTime: parseTime(ready.lastTransitionTime) ?? 0 } : undefined,
    request,
    ...(missing !== undefined ? { missingRequestContainer: missing } : {}),
  };
}

/** Parses metav1.Duration as metrics-server writes it ("15s", "1m0s", "14.5s"). */
function durationMs(v: unknown): number {
  let ms = 0;
  for (const [, n, unit] of str(v).matchAll(/([\d.]+)(h|ms|m|s)/g)) ms += Number(n) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[unit as 'h'] ?? 0);
  return ms;
}

/** A metric that could not be read: the Event's and condition's reason and message, and the error as the metric's computation wraps it. */
interface MetricError {
  reason: string;
  error: string;
  wrapped: string;
}

const NO_CUSTOM_METRICS_API = 'no custom metrics API (custom.metrics.k8s.io) registered';
const NO_EXTERNAL_METRICS_API = 'no external metrics API (external.metrics.k8s.io) registered';

/**
 * A Pods, Object or External metric: edgeos serves only metrics.k8s.io (CPU and memory), so these
 * fail as upstream's fail when no custom or external metrics adapter is registered.
 */
function unservedMetric(m: Json, namespace: string): MetricError {
  const type = str(m.type);
  if (type === 'Pods') {
    const error = `unable to get metric ${str(obj(obj(m.pods).metric).name)}: unable to fetch metrics from custom metrics API: ${NO_CUSTOM_METRICS_API}`;
    return { reason: 'FailedGetPodsMetric', error, wrapped: `failed to get pods metric value: ${error}` };
  }
  if (type === 'Object') {
    const o = obj(m.object);
    const d = obj(o.describedObject);
    const error = `unable to get metric ${str(obj(o.metric).name)} of ${str(d.kind)} ${namespace}/${str(d.name)}: unable to fetch metrics from custom metrics API: ${NO_CUSTOM_METRICS_API}`;
    return { reason: 'FailedGetObjectMetric', error, wrapped: `failed to get object metric value: ${error}` };
  }
  if (type === 'External') {
    const error = `unable to get external metric ${namespace}/${str(obj(obj(m.external).metric).name)}: unable to fetch metrics from external metrics API: ${NO_EXTERNAL_METRICS_API}`;
    return { reason: 'FailedGetExternalMetric', error, wrapped: `failed to get external metric value: ${error}` };
  }
  const error = `unknown metric source type ${JSON.stringify(type)}`;
  return { reason: 'InvalidMetricSourceType', error, wrapped: error };
}

export function hpaController(ctx: ControllerContext): Controller {
  const hpas = ctx.informers.informerFor(HPAS);
  const discovery = createDiscoveryCache(ctx.client, () => ctx.clock.now());
  const memory = new Map<string, AutoscalerMemory>();

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    const hpa = hpas.get(namespace, name);
    if (!hpa || hpa.metadata.deletionTimestamp) {
      memory.delete(key);
      return;
    }
    queue.addAfter(key, HPA_SYNC_PERIOD_MS);
    const now = ctx.clock.now();
    const spec = obj(hpa.spec);
    const oldStatus = obj(hpa.status);
    const conditions: Condition[] = arr(oldStatus.conditions) as unknown as Condition[];
    const setCondition = (type: string, status: boolean, reason: string, message: string): void => {
      const s = status ? 'True' : 'False';
      const old = conditions.find((c) => c.type === type);
      const c: Condition = { type, status: s, lastTransitionTime: old && old.status === s ? old.lastTransitionTime : rfc3339(now), reason, message };
      if (old) conditions.splice(conditions.indexOf(old), 1, c);
      else conditions.push(c);
    };
    const writeStatus = async (status: Json): Promise<void> => {
      const next = { ...status, conditions };
      if (JSON.stringify(next) === JSON.stringify(oldStatus)) return;
      await ctx.client.updateStatus(inNamespace(HPAS, namespace), { ...hpa, status: next });
    };
    const kept = { ...(oldStatus.lastScaleTime ? { lastScaleTime: oldStatus.lastScaleTime } : {}), ...(num(oldStatus.observedGeneration) !== undefined ? { observedGeneration: oldStatus.observedGeneration } : {}) };

    const target = obj(spec.scaleTargetRef);
    const ref = `${str(target.kind)}/${str(target.name)}`;
    let scaleRef: ResourceRef | undefined;
    let scale: KubeObject;
    try {
      const r = await discovery.forKind(str(target.apiVersion), str(target.kind));
      if (!r) throw new Error(`no matches for kind "${str(target.kind)}" in group "${str(target.apiVersion).split('/')[0]}"`);
      scaleRef = inNamespace(r, namespace);
      scale = await ctx.client.get(scaleRef, str(target.name), { subresource: 'scale' });
    } catch (err) {
      ctx.recorder.event(hpa, 'Warning', 'FailedGetScale', errorMessage(err));
      setCondition('AbleToScale', false, 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}`);
      await writeStatus({ ...kept, currentReplicas: num(oldStatus.currentReplicas) ?? 0, desiredReplicas: num(oldStatus.desiredReplicas) ?? 0 });
      return;
    }
    setCondition('AbleToScale', true, 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current = num(obj(scale.spec).replicas) ?? 0;
    const selector = str(obj(scale.status).selector);
    const min = num(spec.minReplicas) ?? 1;
    const max = num(spec.maxReplicas) ?? 1;
    const mem = memory.get(key) ?? { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
    memory.set(key, mem);
    const up = scaleUpRules(spec.behavior);
    const down = scaleDownRules(spec.behavior);

    let desired = current;
    let rescaleReason = '';
    let currentMetrics: Json[] = [];
    if (current === 0 && min !== 0) {
      setCondition('ScalingActive', false, 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > max) {
      desired = max;
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
    } else if (current < min) {
      desired = min;
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
    } else if (!selector) {
      ctx.recorder.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      setCondition('ScalingActive', false, 'InvalidSelector', "the HPA target's scale is missing a selector");
      await writeStatus({ ...kept, currentReplicas: current, desiredReplicas: num(oldStatus.desiredReplicas) ?? current });
      return;
    } else {
      const computed = await replicasForMetrics(hpa, namespace, selector, current, arr(spec.metrics), now);
      currentMetrics = computed.statuses;
      if (computed.replicas === undefined) {
        ctx.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error);
        setCondition('ScalingActive', false, computed.condition.reason, computed.condition.message);
        await writeStatus({ ...kept, currentReplicas: current, desiredReplicas: num(oldStatus.desiredReplicas) ?? current, ...(currentMetrics.length ? { currentMetrics } : {}) });
        return;
      }
      setCondition('ScalingActive', true, 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.metricName}`);
      desired = computed.replicas;
      if (desired > current) rescaleReason = `${computed.metricName} above target`;
      if (desired < current) rescaleReason = 'All metrics below target';
      const n = normalizeWithBehavior(mem, { now, current, desired, min, max, up, down });
      setCondition('AbleToScale', true, n.ableToScale.reason, n.ableToScale.message);
      setCondition('ScalingLimited', n.scalingLimited.limited, n.scalingLimited.reason, n.scalingLimited.message);
      desired = n.replicas;
    }

    let lastScaleTime = kept.lastScaleTime;
    if (desired !== current && !(current === 0 && min !== 0)) {
      try {
        await ctx.client.patch(scaleRef, str(target.name), 'merge', { spec: { replicas: desired } }, { subresource: 'scale' });
      } catch (err) {
        ctx.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${rescaleReason}; error: ${errorMessage(err)}`);
        setCondition('AbleToScale', false, 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`);
        await writeStatus({ ...kept, currentReplicas: current, desiredReplicas: current, ...(currentMetrics.length ? { currentMetrics } : {}) });
        throw err;
      }
      setCondition('AbleToScale', true, 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      ctx.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`);
      ctx.log.info({ hpa: key, target: ref, from: current, to: desired, reason: rescaleReason }, 'rescaled');
      recordScaleEvent(mem, { now, up, down }, current, desired);
      lastScaleTime = rfc3339(now);
    }
    await writeStatus({
      ...(hpa.metadata.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}),
      ...(lastScaleTime ? { lastScaleTime } : {}),
      currentReplicas: current,
      desiredReplicas: desired,
      ...(currentMetrics.length ? { currentMetrics } : {}),
    });
  }

  /**
   * The highest proposal over the metrics (computeReplicasForMetrics). A metric that cannot be
   * read is invalid: its reason is an Event, and the first invalid one becomes the ScalingActive
   * condition when every metric is invalid, or when the valid ones would scale down (upstream does
   * not scale down on partial information).
   */
  async function replicasForMetrics(hpa: KubeObject, namespace: string, selector: string, current: number, metrics: Json[], now: number):
    Promise<{ replicas: number; metricName: string; statuses: Json[] } | { replicas: undefined; error: string; condition: { reason: string; message: string }; statuses: Json[] }> {
    let best: { replicas: number; metricName: string } | undefined;
    const invalid: MetricError[] = [];
    const statuses: Json[] = [];
    // One read of the pods and their usage per sync, whatever the number of metrics.
    let sample: Promise<{ pods: KubeObject[]; metrics: KubeObject[] }> | undefined;
    const read = () =>
      (sample ??= Promise.all([
        ctx.client.list(inNamespace(resources.pods, namespace), { labelSelector: selector, resourceVersion: '0' }),
        ctx.client.list(inNamespace(POD_METRICS, namespace), { labelSelector: selector }),
      ]).then(([pods, m]) => ({ pods: pods.items, metrics: m.items })));
    for (const m of metrics) {
      const type = str(m.type);
      const source = type === 'Resource' ? obj(m.resource) : type === 'ContainerResource' ? obj(m.containerResource) : undefined;
      if (!source) {
        const e = unservedMetric(m, namespace);
        ctx.recorder.event(hpa, 'Warning', e.reason, e.error);
        invalid.push(e);
        continue;
      }
      const resource = str(source.name);
      const container = type === 'ContainerResource' ? str(source.container) : undefined;
      const t = obj(source.target);
      const target: ResourceTarget = str(t.type) === 'AverageValue' ? { resource, averageValue: milli(t.averageValue) } : { resource, utilization: num(t.averageUtilization) ?? 0 };
      const reason = container === undefined ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
      try {
        const { pods, metrics: usage } = await read();
        const podMetrics = new Map<string, PodMetric>();
        for (const u of usage) {
          const containers = arr(u.containers).filter((c) => container === undefined || c.name === container);
          if (container !== undefined && containers.length === 0) continue;
          const value = containers.reduce((a, c) => a + milli(obj(c.usage)[resource]), 0);
          podMetrics.set(u.metadata.name ?? '', { value, timestamp: parseTime(u.timestamp) ?? now, windowMs: durationMs(u.window) });
        }
        if (podMetrics.size === 0) throw new ReplicaCalculationError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
        const p = resourceReplicas(current, target, pods.map((pod) => podInfo(pod, resource, container)), podMetrics, now);
        const of = container === undefined ? '' : ` on container ${container}`;
        const metricName = target.utilization !== undefined ? `${resource} resource utilization (percentage of request)${of}` : `${resource} resource${of}`;
        const currentValue = { ...(p.utilization !== undefined ? { averageUtilization: p.utilization } : {}), averageValue: milliQuantity(p.averageValue) };
        statuses.push(container === undefined
          ? { type, resource: { name: resource, current: currentValue } }
          : { type, containerResource: { name: resource, container, current: currentValue } });
        if (!best || p.replicas > best.replicas) best = { replicas: p.replicas, metricName };
      } catch (err) {
        // Upstream's wording: "failed to get cpu utilization: …" (a utilization) or "… usage" (an averageValue).
        const error = `failed to get ${resource} ${target.utilization !== undefined ? 'utilization' : 'usage'}: ${errorMessage(err)}`;
        ctx.recorder.event(hpa, 'Warning', reason, error);
        invalid.push({ reason, error, wrapped: `failed to get ${resource} ${container === undefined ? '' : 'container '}resource metric value: ${error}` });
      }
    }
    const first = invalid[0];
    if (first && (!best || best.replicas < current)) {
      return {
        replicas: undefined,
        error: `invalid metrics (${invalid.length} invalid out of ${metrics.length}), first error is: ${first.wrapped}`,
        condition: { reason: first.reason, message: `the HPA was unable to compute the replica count: ${first.error}` },
        statuses,
      };
    }
    if (!best) {
      return { replicas: undefined, error: 'no metrics to compute a replica count from', condition: { reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: no metrics' }, statuses };
    }
    return { ...best, statuses };
  }

  return queueController(ctx, {
    name: 'horizontal-pod-autoscaler',
    // A status write is no reason to sync again (that waits for the period); a spec change is.
    wire: (queue) => [hpas.addEventHandler({ add: (h) => queue.add(objectKey(h)), update: (o, h) => JSON.stringify(o.spec) !== JSON.stringify(h.spec) && queue.add(objectKey(h)) })],
    sync,
  });
}
