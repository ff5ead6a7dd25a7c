/**
 * Building blocks of the kind descriptors: the verb sets, the common subresources, the storage
 * segment rule, and `defineKind`, which adds what every built-in kind shares (the core finalizer
 * name rule, the storage segment) and nothing else: every facet is still written in the descriptor.
 */
import { validateKubeFinalizers } from './object-meta.ts';
import { none } from './types.ts';
import type { BuiltinKind, GroupVersionKind, SubresourceInfo } from './types.ts';

export const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const READ_UPDATE = ['get', 'patch', 'update'] as const;

/**
 * The segment under `/registry/` of a resource: the plural for the core and apps groups (as in
 * Kubernetes' etcd layout) and `<plural>.<group>` for every other group, so that e.g. `events`
 * (core) and a CRD `events.example.com` never share a prefix. An object lives at
 * `/registry/<segment>/<namespace>/<name>` (or `/registry/<segment>/<name>` when cluster-scoped);
 * names cannot contain "/", so prefixes ending in "/" never overlap.
 */
export function storageSegment(group: string, plural: string): string {
  return group === '' || group === 'apps' ? plural : `${plural}.${group}`;
}

export function gvk(group: string, version: string, kind: string): GroupVersionKind {
  return { group, version, kind };
}

/** The status subresource of a kind. */
export function statusSubresource(group: string, version: string, kind: string): SubresourceInfo {
  return { name: 'status', responseKind: gvk(group, version, kind), verbs: READ_UPDATE, handler: 'status' };
}

export const scaleSubresource: SubresourceInfo = { name: 'scale', responseKind: gvk('autoscaling', 'v1', 'Scale'), verbs: READ_UPDATE, handler: 'scale' };

/** A subresource written like status (get, patch, update) that returns the parent kind: CSR approval. */
export function statusLikeSubresource(name: string, parent: GroupVersionKind): SubresourceInfo {
  return { name, responseKind: parent, verbs: READ_UPDATE, handler: 'status' };
}

type KindSpec = Omit<BuiltinKind, 'storage'> & { readonly storage?: string };

/**
 * A descriptor with the storage segment filled in (unless the kind shares another's) and the core
 * finalizer-name rule added to its validation, as pkg/apis/core/validation.ValidateObjectMeta does
 * for every built-in kind.
 */
export function defineKind(spec: KindSpec): BuiltinKind {
  const validate = spec.validate;
  return {
    ...spec,
    storage: spec.storage ?? storageSegment(spec.group, spec.plural),
    validate: typeof validate === 'function' ? (obj, old) => [...validate(obj, old), ...validateKubeFinalizers(obj)] : validate,
  };
}

// The usual reasons a kind does without a facet, shared so descriptors stay short and still say it.
export const STORED = none('served from the store');
export const NO_TTL = none('objects stay until they are deleted');
export const NO_DEFAULTS = none('no field has a server-side default');
export const NO_HOOKS = none('a write touches only the object itself');
export const NO_DELETION_POLICY = none('deleted at once when no finalizer holds it');
export const NO_FIELD_SELECTORS = none('selects on metadata.name and metadata.namespace only');
export const NO_PROTOBUF = none('no protobuf definition exists upstream');
/** Its messages are k8s.io/api's (generated.proto of the kind's group and version). */
export const K8S_API_PROTO = 'k8s.io/api' as const;
/** Its messages are k8s.io/apiextensions-apiserver's (CustomResourceDefinition). */
export const APIEXTENSIONS_PROTO = 'k8s.io/apiextensions-apiserver' as const;
export const NO_CONVERSION = none('served in its stored form');
