/**
 * A real pod in both places kubectl needs it: the Pod object in the API (scheduled to the test
 * node, status Running so kubectl exec/port-forward accept it) and its sandbox and containers in
 * containerd, with the CRI metadata and io.kubernetes.* labels a kubelet gives them.
 */
import type { ContainerRuntime, PodSandboxConfig } from '../../src/runtime/index.ts';
import { busyboxImage } from '../runtime/harness.ts';

/** The one call the fixtures need from an API under test. */
export interface ApiRequester {
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }>;
}

export interface ContainerSpec {
  name: string;
  /** Shell script run by busybox sh; absent: the container is only in the API (never created). */
  script?: string;
}

export interface TestPod {
  name: string;
  uid: string;
  sandbox: PodSandboxConfig;
  sandboxId: string;
  containerIds: Record<string, string>;
}

export async function createApiPod(api: ApiRequester, name: string, node: string, containers: ContainerSpec[], annotations: Record<string, string> = {}): Promise<string> {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', annotations },
    spec: { nodeName: node, containers: containers.map((c) => ({ name: c.name, image: busyboxImage })) },
  };
  const created = await api.request('POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(pod), headers: { 'content-type': 'application/json' } });
  if (created.status !== 201) throw new Error(`create pod ${name}: ${created.status} ${created.body}`);
  const uid = (JSON.parse(created.body) as { metadata: { uid: string } }).metadata.uid;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: containers.map((c) => ({ name: c.name, image: busyboxImage, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: now } } })),
    },
  };
  const patched = await api.request('PATCH', `/api/v1/namespaces/default/pods/${name}/status`, { body: JSON.stringify(status), headers: { 'content-type': 'application/merge-patch+json' } });
  if (patched.status !== 200) throw new Error(`set pod ${name} Running: ${patched.status} ${patched.body}`);
  return uid;
}

export async function startRuntimePod(rt: ContainerRuntime, name: string, uid: string, containers: ContainerSpec[]): Promise<TestPod> {
  const podLabels = { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid };
  const sandbox: PodSandboxConfig = { metadata: { name, uid, namespace: 'default', attempt: 0 }, hostname: name, labels: podLabels };
  const sandboxId = await rt.runPodSandbox(sandbox);
  const containerIds: Record<string, string> = {};
  for (const c of containers) {
    if (c.script === undefined) continue;
    containerIds[c.name] = await startContainer(rt, sandboxId, sandbox, c.name, c.script, 0);
  }
  return { name, uid, sandbox, sandboxId, containerIds };
}

export async function startContainer(rt: ContainerRuntime, sandboxId: string, sandbox: PodSandboxConfig, name: string, script: string, attempt: number): Promise<string> {
  const id = await rt.createContainer(sandboxId, {
    name, attempt, image: busyboxImage, command: ['sh', '-c', script],
    labels: { ...sandbox.labels, 'io.kubernetes.container.name': name },
  }, sandbox);
  await rt.startContainer(id);
  return id;
}

export async function runPod(api: ApiRequester, rt: ContainerRuntime, name: string, node: string, containers: ContainerSpec[], annotations: Record<string, string> = {}): Promise<TestPod> {
  const uid = await createApiPod(api, name, node, containers, annotations);
  return startRuntimePod(rt, name, uid, containers);
}
