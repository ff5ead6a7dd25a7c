import { join, normalize } from 'node:path';
import type { Container, Pod, SeccompProfile as KubeSeccompProfile } from 'kubernetes-types/core/v1';
import type { ContainerSecurity, Image, SeccompProfile } from '../../runtime/types.ts';
import { ContainerConfigError } from './errors.ts';
import { podDesc } from './pod-state.ts';

/**
 * The container security context the kubelet hands to the runtime (pkg/kubelet/kuberuntime
 * security_context.go): the container's own settings over the pod's, capabilities as named in the
 * spec (the runtime adds the CAP_ prefix), no_new_privs from `allowPrivilegeEscalation: false`,
 * the seccomp profile, and the runAsNonRoot check against the image's user.
 */

/**
 * The extra groups of every process of the pod, as kubelet's determineEffectiveSecurityContext
 * sets them: fsGroup first, then supplementalGroups. The runtime adds the groups the image's
 * /etc/group gives the user. Without this a pod with `fsGroup: 2000` runs with groups=0 and its
 * non-root containers cannot write to the volumes the kubelet hands to group 2000.
 */
export function podSupplementalGroups(pod: Pod): number[] {
  const sc = pod.spec?.securityContext;
  return [...(sc?.fsGroup !== undefined ? [sc.fsGroup] : []), ...(sc?.supplementalGroups ?? [])];
}

/** kubelet's HasPrivilegedContainer: any init, app or ephemeral container asks for privileged. */
export function hasPrivilegedContainer(pod: Pod): boolean {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  return all.some((c) => c.securityContext?.privileged === true);
}

/** The seccomp profile of the container, else the pod's; a Localhost profile is a file under <rootDir>/seccomp. */
function seccompProfile(rootDir: string, profile: KubeSeccompProfile | undefined): SeccompProfile | undefined {
  if (!profile) return undefined;
  if (profile.type === 'RuntimeDefault' || profile.type === 'Unconfined') return { type: profile.type };
  if (profile.type === 'Localhost') {
    const ref = normalize(profile.localhostProfile ?? '');
    if (!ref || ref.startsWith('..') || ref.startsWith('/')) {
      throw new ContainerConfigError(`localhostProfile must be a path inside the kubelet's seccomp directory, not ${JSON.stringify(profile.localhostProfile ?? '')}`);
    }
    return { type: 'Localhost', localhostRef: join(rootDir, 'seccomp', ref) };
  }
  throw new ContainerConfigError(`unknown seccomp profile type ${JSON.stringify(profile.type)}`);
}

export function containerSecurity(pod: Pod, c: Container, rootDir: string): ContainerSecurity {
  const sc = c.securityContext ?? {};
  const psc = pod.spec?.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const groups = podSupplementalGroups(pod);
  const seccomp = seccompProfile(rootDir, sc.seccompProfile ?? psc.seccompProfile);
  return {
    privileged: sc.privileged ?? false,
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    ...(groups.length ? { supplementalGroups: groups } : {}),
    readonlyRootfs: sc.readOnlyRootFilesystem ?? false,
    addCapabilities: sc.capabilities?.add ?? [],
    dropCapabilities: sc.capabilities?.drop ?? [],
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    ...(seccomp ? { seccomp } : {}),
  };
}

/** Whether runAsNonRoot needs the image's user (it does unless a runAsUser is set). */
export function needsImageUser(pod: Pod, c: Container): boolean {
  const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
  return nonRoot === true && (c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser) === undefined;
}

/**
 * kubelet's verifyRunAsNonRoot: with runAsNonRoot, an explicit runAsUser 0 is refused; without a
 * runAsUser the image's user decides, and an image naming no user runs as root. The messages are
 * upstream's (CreateContainerConfigError).
 */
export function verifyRunAsNonRoot(pod: Pod, c: Container, image: Pick<Image, 'uid' | 'username'> | undefined): void {
  const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
  if (nonRoot !== true) return;
  const runAsUser = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy (pod: "${podDesc(pod)}", container: ${c.name})`);
    return;
  }
  if (image?.uid === undefined && image?.username) {
    throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: "${podDesc(pod)}", container: ${c.name})`);
  }
  if ((image?.uid ?? 0) === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${podDesc(pod)}", container: ${c.name})`);
}
