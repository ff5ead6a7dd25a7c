/**
 * Harness for the workload controllers' integration tests: the real `edgeos server` with its own
 * controllers disabled (so no scheduler binds pods and deletes are immediate), the workload
 * controllers running in this process against it over HTTPS with the admin client certificate —
 * exactly the way the controller manager runs them, with a clock the test may move — plus helpers
 * that stand in for the missing kubelet by writing pod status through pods/status.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createLogger } from '../../../../src/common/log.ts';
import { createKubeClient } from '../../../../src/server/controllers/client/kube-client.ts';
import type { ClosableKubeClient } from '../../../../src/server/controllers/client/kube-client.ts';
import { createEventRecorder } from '../../../../src/server/controllers/event-recorder.ts';
import { createSharedInformers } from '../../../../src/server/controllers/informers/shared-informers.ts';
import { inNamespace, resources } from '../../../../src/server/controllers/types.ts';
import type { Clock, Controller, ControllerDescriptor, KubeObject } from '../../../../src/server/controllers/types.ts';
import { workloadControllers } from '../../../../src/server/controllers/workloads/index.ts';
import { startServer } from '../../../helpers/start-server.ts';
import type { RunningServer } from '../../../helpers/start-server.ts';
import { garbageCollectorController } from '../../../../src/server/controllers/gc/garbage-collector.ts';
import { pvcProtectionController } from '../../../../src/server/controllers/volumes/protection.ts';

export interface WorkloadCluster {
  readonly server: RunningServer;
  readonly client: ClosableKubeClient;
  /** Milliseconds added to the wall clock the controllers see. */
  advance(ms: number): void;
  /** Stop the controllers and start new ones with empty caches. */
  restartControllers(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorkloadCluster(names?: readonly string[]): Promise<WorkloadCluster> {
  const server = await startServer({ extraArgs: ['--disable-controllers'] });
  const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  const client = createKubeClient({
    url: server.url,
    caPem: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
    certPem: dec(kc.users[0]?.user['client-certificate-data']),
    keyPem: dec(kc.users[0]?.user['client-key-data']),
    userAgent: 'edgeos-workload-tests',
  });
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset };
  const log = createLogger({ level: process.env.EDGEOS_TEST_LOG_LEVEL ?? 'silent' });
  // By name, the garbage collector can join: what a controller creates for an owner deleted a moment
  // before (its informer still had it) is the collector's to remove, as in a real cluster.
  // Claims get the pvc-protection finalizer when created (as upstream's admission adds it): the
  // controller that lifts it once no pod uses a claim runs with the workloads, as in a real cluster.
  const known = [...workloadControllers, garbageCollectorController];
  const descriptors: readonly ControllerDescriptor[] = [...(names ? known.filter((d) => names.includes(d.name)) : workloadControllers), pvcProtectionController];
  let running = await runControllers(client, descriptors, clock, log);
  return {
    server,
    client,
    advance: (ms) => (offset += ms),
    restartControllers: async () => {
      await running.stop();
      running = await runControllers(client, descriptors, clock, log);
    },
    stop: async () => {
      await running.stop();
      await client.close();
      await server.stop();
    },
  };
}

/** Fresh informers and controllers, as the manager builds them (a restart starts from a new list). */
async function runControllers(client: ClosableKubeClient, descriptors: readonly ControllerDescriptor[], clock: Clock, log: ReturnType<typeof createLogger>): Promise<{ stop(): Promise<void> }> {
  const informers = createSharedInformers(client, log);
  const abort = new AbortController();
  const controllers: Controller[] = descriptors.map((d) =>
    d.create({
      client,
      informers,
      recorder: createEventRecorder({ client, component: `${d.name}-controller`, clock, log }),
      log: log.child({ controller: d.name }),
      clock,
      options: { nodeMonitorGracePeriodMs: 40_000, nodeMonitorPeriodMs: 5000, workers: 2 },
    }),
  );
  informers.start(abort.signal);
  await Promise.all(controllers.map((c) => c.start(abort.signal)));
  return {
    stop: async () => {
      abort.abort();
      await Promise.all(controllers.map((c) => c.stop()));
      await informers.stopped();
    },
  };
}

/** Poll until `fn` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A Node as a kubelet registers it (Ready), with optional labels and taints. */
export async function addNode(client: ClosableKubeClient, name: string, o: { labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string }[] } = {}): Promise<void> {
  await client.create(resources.nodes, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: o.taints ? { taints: o.taints } : {},
  });
  const t = now();
  await client.patch(resources.nodes, name, 'merge', {
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: t, lastTransitionTime: t }], capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
  }, { subresource: 'status' });
}

export async function listPods(client: ClosableKubeClient, namespace: string, labelSelector?: string): Promise<KubeObject[]> {
  return (await client.list(inNamespace(resources.pods, namespace), labelSelector ? { labelSelector } : {})).items;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** What a kubelet reports for a started, ready pod. */
export async function markRunningReady(client: ClosableKubeClient, pod: KubeObject): Promise<void> {
  const t = now();
  await client.patch(inNamespace(resources.pods, pod.metadata.namespace ?? 'default'), pod.metadata.name ?? '', 'merge', {
    status: {
      phase: 'Running',
      startTime: t,
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: t },
        { type: 'Ready', status: 'True', lastTransitionTime: t },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
      ],
    },
  }, { subresource: 'status' });
}

/** What a kubelet reports when every container exited (0 → Succeeded, else Failed). */
export async function markFinished(client: ClosableKubeClient, pod: KubeObject, phase: 'Succeeded' | 'Failed'): Promise<void> {
  await client.patch(inNamespace(resources.pods, pod.metadata.namespace ?? 'default'), pod.metadata.name ?? '', 'merge', {
    status: { phase, conditions: [{ type: 'Ready', status: 'False', reason: phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed', lastTransitionTime: now() }] },
  }, { subresource: 'status' });
}

/**
 * Play the kubelet until stopped: mark every not-yet-ready pod matching the selector Running+Ready
 * and finish the deletion of terminating (bound) pods, as a kubelet does once containers stopped.
 */
export function autoReady(client: ClosableKubeClient, namespace: string, labelSelector?: string): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const p of await listPods(client, namespace, labelSelector).catch(() => [])) {
        if (p.metadata.deletionTimestamp) {
          await client.delete(inNamespace(resources.pods, namespace), p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
          continue;
        }
        const ready = ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
        const phase = (p.status as { phase?: string } | undefined)?.phase;
        if (!ready && phase !== 'Succeeded' && phase !== 'Failed') await markRunningReady(client, p).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
