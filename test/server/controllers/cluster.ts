/**
 * Test harness for the controllers: the real `edgeos server` (with its controllers), an admin API
 * client (the controllers' own KubeClient over the admin client certificate), and simulated nodes
 * — Node objects whose kube-node-lease Lease the test renews, standing in for kubelets.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createKubeClient } from '../../../src/server/controllers/client/kube-client.ts';
import type { ClosableKubeClient } from '../../../src/server/controllers/client/kube-client.ts';
import { AlreadyExistsError, NotFoundError, inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject, OwnerReference } from '../../../src/server/controllers/types.ts';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer, StartOptions } from '../../helpers/start-server.ts';

export interface Cluster {
  readonly server: RunningServer;
  readonly client: ClosableKubeClient;
  stop(): Promise<void>;
}

export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  const server = await startServer(opts);
  try {
    const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
    const client = createKubeClient({
      url: server.url,
      caPem: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
      certPem: dec(kc.users[0]?.user['client-certificate-data']),
      keyPem: dec(kc.users[0]?.user['client-key-data']),
      userAgent: 'edgeos-controller-tests',
    });
    return {
      server,
      client,
      stop: async () => {
        await client.close();
        await server.stop();
      },
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

export interface NodeOptions {
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  cpu?: string;
  memory?: string;
  pods?: string;
  unschedulable?: boolean;
}

/** A Node as a kubelet would register it, Ready, with its Lease renewed now. */
export async function addNode(client: ClosableKubeClient, name: string, o: NodeOptions = {}): Promise<KubeObject> {
  const capacity = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' };
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const node = await client.create(resources.nodes, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
  });
  await client.patch(resources.nodes, name, 'merge', {
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  }, { subresource: 'status' });
  await renewLease(client, name);
  return node;
}

/** What a kubelet does every 10 s: renew its Lease in kube-node-lease. */
export async function renewLease(client: ClosableKubeClient, node: string): Promise<void> {
  const ref = inNamespace(resources.leases, 'kube-node-lease');
  const renewTime = new Date().toISOString().replace('Z', '000Z').replace(/(\.\d{6})\d*Z$/, '$1Z');
  try {
    await client.patch(ref, node, 'merge', { spec: { renewTime } });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    try {
      await client.create(ref, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: node, namespace: 'kube-node-lease' },
        spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime },
      });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }
}

export function pod(name: string, extra: { spec?: Record<string, unknown>; labels?: Record<string, string>; cpu?: string; memory?: string; ownerReferences?: OwnerReference[] } = {}): KubeObject {
  const requests = { ...(extra.cpu ? { cpu: extra.cpu } : {}), ...(extra.memory ? { memory: extra.memory } : {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}), ...(extra.ownerReferences ? { ownerReferences: extra.ownerReferences } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'registry.example/app:1', ...(Object.keys(requests).length ? { resources: { requests } } : {}) }],
      ...(extra.spec ?? {}),
    },
  };
}

/** Poll until `fn` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
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

/**
 * Stands in for the kubelets of simulated nodes in one respect: a pod being deleted on them
 * (deletionTimestamp set by a graceful delete or an eviction) is removed once "its containers
 * stopped", i.e. at once, by a delete with grace period 0. Stop it with the returned function.
 */
export function finishTerminatingPods(client: ClosableKubeClient, nodes: readonly string[]): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const node of nodes) {
        const list = await client.list(resources.pods, { fieldSelector: `spec.nodeName=${node}` }).catch(() => ({ items: [] as KubeObject[] }));
        for (const p of list.items) {
          if (!p.metadata.deletionTimestamp) continue;
          await client.delete(inNamespace(resources.pods, p.metadata.namespace ?? ''), p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
