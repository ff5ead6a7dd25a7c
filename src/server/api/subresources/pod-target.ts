/**
 * Which pod, node and container a logs/exec/attach/portforward request reaches, resolved like
 * apiserver's LogLocation / streamLocation (pkg/registry/core/pod/strategy.go): without a
 * container name the pod's only container is used, otherwise the request must name one, and a
 * named container must exist in the pod (init containers included). The
 * `kubectl.kubernetes.io/default-container` annotation is kubectl's business: it reads it and
 * sends `container=`, so the server, like apiserver, never guesses.
 */
import type { PodRef } from '../../../common/tunnel.ts';
import type { KubeObject } from '../../kinds/types.ts';
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import { mustRead } from '../../storage/read.ts';
import { badRequest } from '../../storage/status.ts';
import type { ApiError } from '../../storage/status.ts';

export interface PodTarget {
  readonly ref: PodRef;
  /** spec.nodeName; '' when the pod is not scheduled. */
  readonly node: string;
  readonly pod: KubeObject;
}

function containerNames(pod: KubeObject, field: 'containers' | 'initContainers' | 'ephemeralContainers'): string[] {
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const list = Array.isArray(spec[field]) ? (spec[field] as { name?: unknown }[]) : [];
  return list.map((c) => (typeof c.name === 'string' ? c.name : '')).filter((n) => n !== '');
}

export async function readPodTarget(d: ApiDeps, r: ResourceInfo, namespace: string, name: string): Promise<PodTarget> {
  const { obj } = await mustRead(d.store, r, namespace, name);
  const meta = (obj.metadata ?? {}) as { uid?: unknown };
  const spec = (obj.spec ?? {}) as { nodeName?: unknown };
  return {
    ref: { namespace, name, uid: typeof meta.uid === 'string' ? meta.uid : '' },
    node: typeof spec.nodeName === 'string' ? spec.nodeName : '',
    pod: obj,
  };
}

/** apiserver's message when exec/attach/portforward reach an unscheduled pod. */
export function noHostAssigned(name: string): ApiError {
  return badRequest(`pod ${name} does not have a host assigned`);
}

export function resolveContainer(t: PodTarget, requested: string): string {
  const containers = containerNames(t.pod, 'containers');
  const inits = containerNames(t.pod, 'initContainers');
  if (requested !== '') {
    // Ephemeral containers (kubectl debug) are attached to and read by name too.
    if (!containers.includes(requested) && !inits.includes(requested) && !containerNames(t.pod, 'ephemeralContainers').includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${t.ref.name}`);
    return requested;
  }
  if (containers.length === 1) return containers[0]!;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${t.ref.name}`);
  let message = `a container name must be specified for pod ${t.ref.name}, choose one of: [${containers.join(' ')}]`;
  if (inits.length > 0) message += ` or one of the init containers: [${inits.join(' ')}]`;
  throw badRequest(message);
}
