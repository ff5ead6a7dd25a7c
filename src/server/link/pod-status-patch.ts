// A node's pod status write as the kubelet's status manager sends it (pkg/kubelet/status,
// PatchPodStatus: a strategic merge patch, in which conditions merge by type). The patch names
// only the conditions a kubelet owns, so one another component wrote — a readiness gate's,
// DisruptionTarget — survives the write, also when it was written after the agent last read the
// pod. A JSON merge patch would replace the server's whole list with the kubelet's view of it.
import { isKubeletPodCondition } from '../../common/pod-conditions.ts';

/** The optional fields of a PodCondition: null removes one an earlier write set (Ready's reason once Ready). */
const OPTIONAL_CONDITION_FIELDS = ['lastProbeTime', 'lastTransitionTime', 'reason', 'message'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The PATCH body (application/strategic-merge-patch+json) of pods/status for the kubelet's full status. */
export function podStatusPatch(uid: string, status: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...status };
  if (Array.isArray(status.conditions)) {
    patch.conditions = status.conditions
      .filter((c): c is Record<string, unknown> => isObject(c) && typeof c.type === 'string' && isKubeletPodCondition(c.type))
      .map((c) => ({ ...Object.fromEntries(OPTIONAL_CONDITION_FIELDS.map((f) => [f, null])), ...c }));
  }
  // podIPs and hostIPs merge by ip: the kubelet's list is the whole list (its two-way patch
  // deletes the addresses that are gone).
  for (const field of ['podIPs', 'hostIPs']) {
    const list = status[field];
    if (Array.isArray(list)) patch[field] = [{ $patch: 'replace' }, ...list];
  }
  // metadata.uid is a precondition: a status never lands on a new pod that reuses the name.
  return { metadata: { uid }, status: patch };
}
