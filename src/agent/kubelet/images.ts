import type { Container, Pod } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import { ImageReferenceError } from '../../runtime/errors.ts';
import type { ContainerRuntime, PodSandboxConfig, RegistryAuth } from '../../runtime/types.ts';
import type { Backoff } from './backoff.ts';
import type { EventRecorder } from './events.ts';
import { secretEntries } from './objects.ts';
import type { ObjectSource } from './objects.ts';

export type ImageResult = { ok: true; imageRef: string } | { ok: false; reason: string; message: string };

/** imagePullPolicy as the API server defaults it: Always for :latest or no tag, else IfNotPresent. */
export function pullPolicy(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy === 'Always' || c.imagePullPolicy === 'IfNotPresent' || c.imagePullPolicy === 'Never') return c.imagePullPolicy;
  const image = c.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.split(':').pop() : undefined;
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The registry host of an image reference (docker.io when the first element is not a host). */
export function registryHost(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

function hostOfKey(key: string): string {
  const h = key.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? '';
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
}

/** Credentials for the image from the pod's imagePullSecrets (dockerconfigjson or legacy dockercfg). */
export async function pullAuth(pod: Pod, image: string, objects: ObjectSource): Promise<RegistryAuth | undefined> {
  const host = registryHost(image);
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const s = await objects.secret(pod.metadata?.namespace ?? '', ref.name ?? '');
    if (!s) continue;
    const e = secretEntries(s);
    let auths: Record<string, RegistryAuth & { auth?: string }> = {};
    try {
      const json = e.get('.dockerconfigjson') ?? e.get('.dockercfg');
      if (!json) continue;
      const parsed = JSON.parse(json.toString()) as { auths?: typeof auths } & typeof auths;
      auths = parsed.auths ?? parsed;
    } catch {
      continue;
    }
    for (const [key, a] of Object.entries(auths)) {
      if (hostOfKey(key) !== host) continue;
      return { username: a.username, password: a.password, auth: a.auth, identityToken: a.identityToken, registryToken: a.registryToken, serverAddress: key };
    }
  }
  return undefined;
}

export interface ImageDeps {
  runtime: ContainerRuntime;
  objects: ObjectSource;
  events: EventRecorder;
  backoff: Backoff;
  now: () => number;
}

/**
 * kubelet's imageManager.EnsureImageExists: honour imagePullPolicy (an image already present
 * counts for IfNotPresent and Never); pull with the pod's pull secrets; a failed pull is
 * ErrImagePull and further attempts wait in ImagePullBackOff (10 s doubling to 5 min).
 * edgeos deviation for offline autonomy: with Always, a failed pull of an image that is present
 * locally uses the local copy (with a Warning) instead of refusing to start the container.
 */
export class ImageManager {
  private readonly d: ImageDeps;
  /** Last failed pull per pod and image, the start of the ImagePullBackOff window. */
  private readonly failedAt = new Map<string, number>();

  constructor(deps: ImageDeps) {
    this.d = deps;
  }

  forgetPod(uid: string): void {
    for (const k of this.failedAt.keys()) if (k.startsWith(`${uid}/`)) this.failedAt.delete(k);
    this.d.backoff.forgetPrefix(`${uid}/`);
  }

  async ensure(pod: Pod, c: Container, init: boolean, sandbox: PodSandboxConfig): Promise<ImageResult> {
    const d = this.d;
    const image = c.image ?? '';
    const policy = pullPolicy(c);
    const ev = { name: c.name, init };
    const key = `${pod.metadata?.uid}/${image}`;
    let present;
    try {
      present = await d.runtime.imageStatus(image);
    } catch (err) {
      if (!(err instanceof ImageReferenceError)) throw err;
      const message = `Failed to apply default image tag "${image}": ${errorMessage(err)}`;
      d.events.pod(pod, 'Warning', 'InspectFailed', message, ev);
      return { ok: false, reason: 'InvalidImageName', message };
    }
    if (present && policy !== 'Always') {
      d.events.pod(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, ev);
      return { ok: true, imageRef: present.id };
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      d.events.pod(pod, 'Warning', 'ErrImageNeverPull', message, ev);
      return { ok: false, reason: 'ErrImageNeverPull', message };
    }
    const last = this.failedAt.get(key);
    if (last !== undefined && d.backoff.inBackoffSince(key, last)) {
      const message = `Back-off pulling image "${image}"`;
      d.events.pod(pod, 'Normal', 'BackOff', message, ev);
      return { ok: false, reason: 'ImagePullBackOff', message };
    }
    d.events.pod(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, ev);
    const started = d.now();
    try {
      const ref = await d.runtime.pullImage(image, await pullAuth(pod, image, d.objects), sandbox);
      this.failedAt.delete(key);
      d.backoff.reset(key);
      d.events.pod(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${((d.now() - started) / 1000).toFixed(3)}s`, ev);
      return { ok: true, imageRef: ref };
    } catch (err) {
      if (present) {
        d.events.pod(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${errorMessage(err)}; using the image present on the node`, ev);
        return { ok: true, imageRef: present.id };
      }
      this.failedAt.set(key, d.now());
      d.backoff.next(key);
      const reason = err instanceof ImageReferenceError ? 'InvalidImageName' : 'ErrImagePull';
      const message = `Failed to pull image "${image}": ${errorMessage(err)}`;
      d.events.pod(pod, 'Warning', 'Failed', message, ev);
      return { ok: false, reason, message };
    }
  }

  /** When a pull in back-off may be retried (0 when none waits). */
  retryAt(pod: Pod, image: string): number {
    const key = `${pod.metadata?.uid}/${image}`;
    const last = this.failedAt.get(key);
    return last === undefined ? 0 : this.d.backoff.retryAt(key, last);
  }
}
