/**
 * The built-in local volumes (docs/storage.md): the names the server's provisioner, scheduler,
 * node feed and Node authorizer share with the agent, which creates a volume's directory on its
 * node and deletes it when the PersistentVolume goes. One place, so both ends agree.
 */

/** The provisioner of the default StorageClass `local-path`. */
export const LOCAL_PATH_PROVISIONER = 'edgeos.io/local-path';
/**
 * Provisioner names served by the built-in local volumes: ours, and K3s's local-path-provisioner,
 * so StorageClasses written for K3s (a `Retain` copy of `local-path`, say) work unchanged.
 */
export const LOCAL_PATH_PROVISIONERS: ReadonlySet<string> = new Set([LOCAL_PATH_PROVISIONER, 'rancher.io/local-path']);

/** The default StorageClass. */
export const LOCAL_PATH_STORAGE_CLASS = 'local-path';

/** Kubernetes' annotation naming the provisioner that created a PersistentVolume. */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
/** On a PersistentVolume: the node whose agent holds its data. */
export const LOCAL_PATH_NODE_ANNOTATION = 'edgeos.io/local-path-node';
/**
 * On a PersistentVolume: the node's agent still has to act on its data before the object may go
 * (delete it under reclaim policy Delete; leave it otherwise). A node that is offline when the
 * volume is deleted does it when it returns, since the object waits for it (docs/storage.md).
 */
export const LOCAL_PATH_FINALIZER = 'edgeos.io/local-path-cleanup';
/**
 * On a Node: the directory its agent provisions local volumes under (`--default-local-storage-path`),
 * set by the agent at every connect, as the kubelet reconciles its own annotations.
 */
export const LOCAL_STORAGE_PATH_ANNOTATION = 'edgeos.io/local-storage-path';

interface PersistentVolumeLike {
  metadata?: { name?: string; annotations?: Record<string, string> | null } | null;
  spec?: { local?: { path?: string } | null; claimRef?: { namespace?: string; name?: string } | null } | null;
}

/** The node holding a local-path volume, or undefined for any other PersistentVolume. */
export function localPathNode(pv: PersistentVolumeLike): string | undefined {
  const a = pv.metadata?.annotations ?? {};
  const by = a[PROVISIONED_BY_ANNOTATION];
  return by !== undefined && LOCAL_PATH_PROVISIONERS.has(by) ? a[LOCAL_PATH_NODE_ANNOTATION] || undefined : undefined;
}

/** `<pv>_<namespace>_<claim>`, the directory name local-path-provisioner uses too. */
export function localVolumeDirName(pvName: string, namespace: string, claimName: string): string {
  return `${pvName}_${namespace}_${claimName}`;
}
