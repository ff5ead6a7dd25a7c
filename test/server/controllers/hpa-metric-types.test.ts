// HorizontalPodAutoscalers on Pods, Object and External metrics against the real server: edgeos
// serves CPU and memory (metrics.k8s.io) only, so these must say so the way upstream does when no
// custom or external metrics adapter is registered — ScalingActive False with the metric type's
// reason and a message naming the missing API, the same reason as an Event, and
// FailedComputeMetricsReplicas — and never touch the target's replicas. Read with kubectl 1.33.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../helpers/kubectl.ts';
import { startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

const KUBECTL_133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
let c: Cluster;
const escape = (s: string): string => s.replace(/[().*+?[\]{}^$|\\]/g, '\\$&');

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(c.server, args, { bin: KUBECTL_133 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r.stdout;
}

const hpa = (name: string, metric: string): string => `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: ${name}, namespace: default }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: 1
  maxReplicas: 4
  metrics: [${metric}]
`;

beforeAll(async () => {
  c = await startCluster();
  await ok(['create', 'deployment', 'web', '--image=example.com/web:1', '--replicas=2']);
  const manifests = [
    hpa('on-pods', '{ type: Pods, pods: { metric: { name: http_requests }, target: { type: AverageValue, averageValue: "10" } } }'),
    hpa('on-object', '{ type: Object, object: { describedObject: { apiVersion: v1, kind: Service, name: web }, metric: { name: requests_per_second }, target: { type: Value, value: "100" } } }'),
    hpa('on-external', '{ type: External, external: { metric: { name: queue_messages, selector: { matchLabels: { queue: jobs } } }, target: { type: AverageValue, averageValue: "30" } } }'),
  ];
  await kubectl(c.server, ['apply', '-f', '-'], { stdin: manifests.join('---\n'), bin: KUBECTL_133 }).then((r) => expect(r.stderr).toBe(''));
}, 90_000);

afterAll(async () => {
  await c?.stop();
});

describe('HPA metric types edgeos does not serve', () => {
  it.each([
    ['on-pods', 'FailedGetPodsMetric', 'unable to get metric http_requests: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered'],
    ['on-object', 'FailedGetObjectMetric', 'unable to get metric requests_per_second of Service default/web: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered'],
    ['on-external', 'FailedGetExternalMetric', 'unable to get external metric default/queue_messages: unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered'],
  ])('%s: ScalingActive False %s naming the missing API, as Events too; the target keeps its replicas', async (name, reason, error) => {
    const described = await waitFor(async () => {
      const d = await ok(['describe', 'hpa', name]);
      return new RegExp(`ScalingActive\\s+False\\s+${reason}\\s`).test(d) && d.includes('FailedComputeMetricsReplicas') ? d : undefined;
    }, `the ${name} condition`);
    expect(described).toMatch(/AbleToScale\s+True\s+SucceededGetScale\s+the HPA controller was able to get the target's current scale/);
    expect(described).toMatch(new RegExp(`ScalingActive\\s+False\\s+${reason}\\s+the HPA was unable to compute the replica count: ${escape(error)}\n`));
    // Events as kubectl lists them: the metric's own reason, then the summary upstream records.
    expect(described).toMatch(new RegExp(`Warning\\s+${reason}\\s+.*\\s${escape(error)}\n`));
    expect(described).toMatch(/Warning\s+FailedComputeMetricsReplicas\s+.*invalid metrics \(1 invalid out of 1\), first error is: failed to get (pods|object|external) metric value: /);
    const status = JSON.parse(await ok(['get', 'hpa', name, '-o', 'json'])) as { status: { currentReplicas: number; desiredReplicas: number } };
    expect(status.status).toMatchObject({ currentReplicas: 2, desiredReplicas: 2 });
    expect(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('2');
  }, 60_000);
});
