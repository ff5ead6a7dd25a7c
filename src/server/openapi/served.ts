/**
 * The built-in resources whose OpenAPI paths edgeos publishes, per group/version: every stored kind
 * of the served-resource registry (src/server/registry/builtin.ts) that has a schema, so each kind
 * kubectl can create also has a document (a missing one makes `create -f` fail with
 * "failed to download openapi", kubectl-wire.md §2).
 */
import { builtinResources } from '../registry/index.ts';
import { schemaName } from './schema-names.ts';

export type PublishedSubresource = 'status' | 'scale' | 'eviction' | 'binding' | 'approval' | 'finalize';

export interface ServedResource {
  /** Plural resource name, e.g. "pods". */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Component schema name of the kind, e.g. io.k8s.api.core.v1.Pod. */
  readonly schema: string;
  readonly subresources?: readonly PublishedSubresource[];
  /** A CRD-defined kind: no strategic merge patch (apiserver answers it with 415 for them). */
  readonly custom?: boolean;
}

export interface ServedGroupVersion {
  readonly group: string;
  readonly version: string;
  readonly resources: readonly ServedResource[];
}

/**
 * Subresources with a JSON body and a schema. Streaming ones (log, exec, attach, portforward,
 * proxy) are left out: kubectl never reads OpenAPI for them.
 */
const PUBLISHED_SUBRESOURCES = new Set<string>(['status', 'scale', 'eviction', 'binding', 'approval', 'finalize']);

/** The registry's stored built-in kinds grouped by group/version; `hasSchema` filters out kinds without one. */
export function servedGroupVersions(hasSchema: (name: string) => boolean): ServedGroupVersion[] {
  const byGv = new Map<string, { group: string; version: string; resources: ServedResource[] }>();
  for (const r of builtinResources()) {
    if (r.virtual) continue;
    const schema = schemaName(r.group, r.version, r.kind);
    if (!schema || !hasSchema(schema)) continue;
    const key = `${r.group}/${r.version}`;
    const entry = byGv.get(key) ?? { group: r.group, version: r.version, resources: [] };
    const subresources = r.subresources.map((s) => s.name).filter((n): n is PublishedSubresource => PUBLISHED_SUBRESOURCES.has(n));
    entry.resources.push({ resource: r.plural, kind: r.kind, namespaced: r.namespaced, schema, ...(subresources.length ? { subresources } : {}) });
    byGv.set(key, entry);
  }
  return [...byGv.values()];
}

/** "api/v1" for core, "apis/<group>/<version>" otherwise: the keys of the /openapi/v3 root. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}
