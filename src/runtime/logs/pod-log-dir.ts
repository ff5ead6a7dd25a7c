import { join } from 'node:path';

/**
 * The directory of one pod's container logs under `parent`: kubelet's /var/log/pods layout,
 * `<namespace>_<name>_<uid>` (pkg/kubelet/kuberuntime BuildPodLogsDirectory). Built here only: the
 * runtime, the kubelet's sandbox config and its clean-up of a deleted pod must agree on it.
 */
export function podLogDirectory(parent: string, pod: { readonly namespace?: string | undefined; readonly name?: string | undefined; readonly uid?: string | undefined }): string {
  return join(parent, `${pod.namespace}_${pod.name}_${pod.uid}`);
}
