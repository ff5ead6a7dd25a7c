/**
 * The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount upstream), on pod
 * create: unless the pod (or else its ServiceAccount) sets automountServiceAccountToken: false,
 * the pod gets a projected `kube-api-access-<suffix>` volume — a bound token the kubelet requests
 * and refreshes, the cluster CA from the namespace's kube-root-ca.crt ConfigMap, the namespace —
 * mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container that
 * mounts nothing there, which is where client-go's in-cluster config looks.
 *
 * One deviation: upstream refuses a pod whose ServiceAccount does not exist (yet). edgeos admits
 * it; its kubelet then reports FailedMount until the ServiceAccount exists (the `default` one
 * appears with the namespace: controllers/serviceaccounts/namespace-defaults.ts), so creating a
 * namespace and its pods in one `kubectl apply` does not race the controller.
 */
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1';
import { storageSegment } from './define.ts';
import { randomSuffix } from './names.ts';
import type { KubeObject, WriteContext, WriteHooks } from './types.ts';

export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The kubelet's token lifetime request; the API extends it (auth/service-account-tokens.ts). */
const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

async function serviceAccountAutomount(ctx: WriteContext, namespace: string, name: string): Promise<boolean | undefined> {
  // From the watch-fed cache (storage/watch-cache.ts), as upstream's plugin reads an informer.
  const kv = await ctx.cache.get(`/registry/${storageSegment('', 'serviceaccounts')}/${namespace}/${name}`);
  if (!kv) return undefined;
  const sa = JSON.parse(kv.value.toString('utf8')) as { automountServiceAccountToken?: boolean };
  return sa.automountServiceAccountToken;
}

/** Adds the token volume and its mounts to `pod` when it should have them (mutates). */
export async function admitServiceAccount(ctx: WriteContext, pod: Pod): Promise<void> {
  const spec = pod.spec;
  if (!spec || pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  const account = spec.serviceAccountName || 'default';
  const automount = spec.automountServiceAccountToken ?? (await serviceAccountAutomount(ctx, pod.metadata?.namespace ?? '', account)) ?? true;
  if (!automount) return;
  const volumes = spec.volumes ?? [];
  let volumeName = volumes.find((v) => v.name.startsWith(TOKEN_VOLUME_PREFIX))?.name;
  const existing = volumeName !== undefined;
  if (!volumeName) {
    const taken = new Set(volumes.map((v) => v.name));
    do volumeName = TOKEN_VOLUME_PREFIX + randomSuffix();
    while (taken.has(volumeName));
  }
  let mounted = false;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers] as Container[]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    mounted = true;
  }
  if (mounted && !existing) spec.volumes = [...volumes, tokenVolume(volumeName)];
}

export const podHooks: WriteHooks = {
  async beforeCreate(ctx, obj: KubeObject) {
    await admitServiceAccount(ctx, obj as unknown as Pod);
    return [];
  },
};
