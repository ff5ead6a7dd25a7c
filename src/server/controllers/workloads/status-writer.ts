/**
 * Writing a computed status only when it differs from what the cache shows, as a merge patch on
 * the status subresource (so a concurrent spec change never conflicts with it). Fields the new
 * status drops are sent as null, which merge patch reads as "remove".
 */
import { jsonEqual } from '../../kinds/access.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../types.ts';
import { inNamespace, NotFoundError } from '../types.ts';

export async function writeStatus(client: KubeClient, ref: ResourceRef, obj: KubeObject, status: Record<string, unknown>): Promise<boolean> {
  const current = (obj.status ?? {}) as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status)) if (v !== undefined && !jsonEqual(current[k], v)) patch[k] = v;
  for (const k of Object.keys(current)) if (status[k] === undefined) patch[k] = null;
  if (Object.keys(patch).length === 0) return false;
  try {
    await client.patch(inNamespace(ref, obj.metadata.namespace ?? ''), obj.metadata.name ?? '', 'merge', { status: patch }, { subresource: 'status' });
  } catch (e) {
    // The object went away while we computed: nothing left to report on.
    if (e instanceof NotFoundError) return false;
    throw e;
  }
  return true;
}
