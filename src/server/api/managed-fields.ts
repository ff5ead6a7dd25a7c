/**
 * metadata.managedFields for non-apply writes (create, update, merge/JSON/strategic patch): the
 * writing manager owns the fields it set or changed, computed by the patch module's field
 * tracking so server-side apply later reports conflicts against these entries
 * (`conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`).
 */
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../kinds/types.ts';
import { recordUpdate as trackUpdate } from '../patch/index.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { meta } from '../storage/objects.ts';

/** fieldManager, or apiserver's default: the User-Agent up to the first "/" ("kubectl"). */
export function fieldManagerOf(query: URLSearchParams, req: IncomingMessage): string {
  const m = query.get('fieldManager');
  if (m) return m;
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0] ?? 'unknown';
}

/** Set `obj.metadata.managedFields` after a write of `obj` over `old` (undefined for a create). */
export function recordUpdate(r: ResourceInfo, obj: KubeObject, old: KubeObject | undefined, manager: string, now: string, subresource = ''): void {
  const entries = trackUpdate(manager, 'Update', old, obj, { group: r.group, version: r.version, kind: r.kind }, now, subresource);
  const m = meta(obj);
  if (entries.length > 0) m.managedFields = entries;
  else delete m.managedFields;
}
