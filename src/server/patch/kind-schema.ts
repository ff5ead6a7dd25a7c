/**
 * Which field strategies a kind's patches use: the merge keys of its descriptor
 * (src/server/kinds), or metadata only for kinds without one.
 */
import { builtinKind } from '../kinds/builtin.ts';
import { present } from '../kinds/types.ts';
import { kind } from './merge-keys-core.ts';
import type { StructSchema } from './merge-keys.ts';
import type { GroupVersionKind } from './types.ts';

// API groups compiled into kube-apiserver: their kinds are Go structs, so SMP is available for all of
// them, described here or not. Every other group is a custom resource — except edgeos's own built-in
// kinds (apps.edgeos.io NodePool, PoolSet): their descriptors carry merge keys, and kubectl, finding
// their schema in /openapi, sends them strategic merge patches.
const builtInGroups = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io',
  'scheduling.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'storage.k8s.io',
  'node.k8s.io', 'certificates.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io',
  'apiregistration.k8s.io', 'flowcontrol.apiserver.k8s.io', 'authentication.k8s.io',
  'authorization.k8s.io', 'resource.k8s.io', 'internal.apiserver.k8s.io', 'storagemigration.k8s.io',
]);

export function isBuiltInKind(gvk: GroupVersionKind): boolean {
  return builtInGroups.has(gvk.group) || builtinKind(gvk.group, gvk.kind) !== undefined;
}

const metadataOnly = kind({});

/** The field strategies of a kind: its descriptor's merge keys, or metadata only for kinds not described. */
export function schemaFor(gvk: GroupVersionKind): StructSchema {
  const k = builtinKind(gvk.group, gvk.kind);
  return (k && present(k.mergeKeys)) ?? metadataOnly;
}
