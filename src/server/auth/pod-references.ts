// What a pod makes its node fetch: the Secrets, ConfigMaps, ServiceAccount and PVCs the kubelet
// needs to run it. Mirrors k8s.io/kubernetes pkg/api/v1/pod VisitPodSecretNames /
// VisitPodConfigmapNames for the volume and env sources edgeos supports.
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1';

export interface PodReferences {
  readonly secrets: Set<string>;
  readonly configmaps: Set<string>;
  readonly serviceaccounts: Set<string>;
  readonly persistentvolumeclaims: Set<string>;
}

function add(set: Set<string>, name: string | undefined): void {
  if (name) set.add(name);
}

function visitVolume(v: Volume, r: PodReferences): void {
  add(r.secrets, v.secret?.secretName);
  add(r.configmaps, v.configMap?.name);
  add(r.persistentvolumeclaims, v.persistentVolumeClaim?.claimName);
  for (const src of v.projected?.sources ?? []) {
    add(r.secrets, src.secret?.name);
    add(r.configmaps, src.configMap?.name);
  }
  add(r.secrets, v.csi?.nodePublishSecretRef?.name);
  add(r.secrets, v.cephfs?.secretRef?.name);
  add(r.secrets, v.cinder?.secretRef?.name);
  add(r.secrets, v.flexVolume?.secretRef?.name);
  add(r.secrets, v.iscsi?.secretRef?.name);
  add(r.secrets, v.rbd?.secretRef?.name);
  add(r.secrets, v.azureFile?.secretName);
}

function visitContainer(c: Container, r: PodReferences): void {
  for (const e of c.env ?? []) {
    add(r.secrets, e.valueFrom?.secretKeyRef?.name);
    add(r.configmaps, e.valueFrom?.configMapKeyRef?.name);
  }
  for (const e of c.envFrom ?? []) {
    add(r.secrets, e.secretRef?.name);
    add(r.configmaps, e.configMapRef?.name);
  }
}

export function podReferences(pod: Pod): PodReferences {
  const r: PodReferences = { secrets: new Set(), configmaps: new Set(), serviceaccounts: new Set(), persistentvolumeclaims: new Set() };
  const spec = pod.spec;
  if (!spec) return r;
  // An unset serviceAccountName means "default" (the ServiceAccount admission plugin fills it).
  r.serviceaccounts.add(spec.serviceAccountName || 'default');
  for (const s of spec.imagePullSecrets ?? []) add(r.secrets, s.name);
  for (const v of spec.volumes ?? []) visitVolume(v, r);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    visitContainer(c as Container, r);
  }
  return r;
}
