/**
 * autoscaling/v1 HorizontalPodAutoscaler over the stored autoscaling/v2 form, as Kubernetes
 * converts it (pkg/apis/autoscaling/v1/conversion.go): v1 has only `targetCPUUtilizationPercentage`
 * and `currentCPUUtilizationPercentage`; whatever else v2 holds (other metrics, behavior, current
 * metrics, conditions) rides in the `autoscaling.alpha.kubernetes.io/*` annotations of the v1 object
 * so that a v1 client's read-modify-write keeps it. Upstream those annotations hold the v1 package's
 * own metric types; edgeos writes the v2 JSON there (only edgeos reads them back).
 */
import { map, maps, num, str, type JsonMap } from './access.ts';
import type { KubeObject, StorageConversion } from './types.ts';

const ANNOTATION = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
} as const;

const isCpuUtilization = (m: JsonMap): boolean => {
  const r = map(m.resource);
  return str(m.type) === 'Resource' && str(r?.name) === 'cpu' && str(map(r?.target)?.type) === 'Utilization';
};

function annotationsOf(obj: KubeObject): Record<string, unknown> {
  const meta = (obj.metadata ??= {});
  const a = map(meta.annotations);
  if (a) return a;
  const fresh: Record<string, unknown> = {};
  meta.annotations = fresh;
  return fresh;
}

function takeJson(obj: KubeObject, key: string): unknown {
  const a = map(obj.metadata?.annotations);
  const raw = a?.[key];
  if (a) delete a[key];
  if (a && Object.keys(a).length === 0 && obj.metadata) delete obj.metadata.annotations;
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function putJson(obj: KubeObject, key: string, value: unknown): void {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return;
  annotationsOf(obj)[key] = JSON.stringify(value);
}

/** v1 → v2 (the stored form). */
function toV2(obj: KubeObject): KubeObject {
  const spec = map(obj.spec) ?? {};
  const status = map(obj.status);
  const metrics = (takeJson(obj, ANNOTATION.metrics) as JsonMap[] | undefined) ?? [];
  const cpu = num(spec.targetCPUUtilizationPercentage);
  const v2spec: JsonMap = { scaleTargetRef: spec.scaleTargetRef, ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}), maxReplicas: spec.maxReplicas };
  const all = cpu !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }, ...metrics] : metrics;
  if (all.length) v2spec.metrics = all;
  const behavior = takeJson(obj, ANNOTATION.behavior);
  if (behavior !== undefined) v2spec.behavior = behavior;
  obj.spec = v2spec;
  const currentMetrics = takeJson(obj, ANNOTATION.currentMetrics) as JsonMap[] | undefined;
  const conditions = takeJson(obj, ANNOTATION.conditions);
  if (status) {
    const currentCpu = num(status.currentCPUUtilizationPercentage);
    const current: JsonMap[] = currentMetrics ?? [];
    if (currentCpu !== undefined && !current.some((m) => str(m.type) === 'Resource' && str(map(m.resource)?.name) === 'cpu')) {
      current.unshift({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: currentCpu } } });
    }
    const { currentCPUUtilizationPercentage: _cpu, ...rest } = status;
    obj.status = { ...rest, ...(current.length ? { currentMetrics: current } : {}), ...(Array.isArray(conditions) ? { conditions } : {}) };
  }
  return obj;
}

/** v2 (stored) → v1. */
function toV1(obj: KubeObject): KubeObject {
  const spec = map(obj.spec) ?? {};
  const metrics = maps(spec.metrics);
  const cpu = metrics.find(isCpuUtilization);
  const v1spec: JsonMap = { scaleTargetRef: spec.scaleTargetRef, ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}), maxReplicas: spec.maxReplicas };
  const cpuTarget = num(map(map(cpu?.resource)?.target)?.averageUtilization);
  if (cpuTarget !== undefined) v1spec.targetCPUUtilizationPercentage = cpuTarget;
  putJson(obj, ANNOTATION.metrics, metrics.filter((m) => m !== cpu));
  if (spec.behavior !== undefined) putJson(obj, ANNOTATION.behavior, spec.behavior);
  obj.spec = v1spec;
  const status = map(obj.status);
  if (status) {
    const current = maps(status.currentMetrics);
    const cpuNow = current.find((m) => str(m.type) === 'Resource' && str(map(m.resource)?.name) === 'cpu');
    const { currentMetrics: _m, conditions, ...rest } = status;
    const utilization = num(map(map(cpuNow?.resource)?.current)?.averageUtilization);
    obj.status = { ...rest, ...(utilization !== undefined ? { currentCPUUtilizationPercentage: utilization } : {}) };
    putJson(obj, ANNOTATION.currentMetrics, current.filter((m) => m !== cpuNow));
    if (Array.isArray(conditions)) putJson(obj, ANNOTATION.conditions, conditions);
  }
  return obj;
}

export const autoscalingV1Conversion: StorageConversion = {
  storedVersion: 'v2',
  toStorage(obj) {
    toV2(obj);
    obj.apiVersion = 'autoscaling/v2';
    return obj;
  },
  fromStorage: toV1,
};
