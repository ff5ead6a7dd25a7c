/**
 * The served-resource registry: what `/api`, `/apis` and the REST handlers know about each
 * resource. One entry per (group, version, plural). Built-in entries come from the kind
 * descriptors (src/server/kinds, builtin.ts here); custom resources are added and removed at run
 * time from CustomResourceDefinitions (crd.ts).
 */
import type { BuiltinKind, GroupVersionKind, SubresourceInfo } from '../kinds/types.ts';

export type { GroupVersionKind, SubresourceInfo };

/** A CRD's additionalPrinterColumns entry, used to build the Table for `kubectl get`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly jsonPath: string;
}

export interface ScalePaths {
  /** e.g. ".spec.replicas" */
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath?: string;
}

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  /**
   * The segment under `/registry/` that holds this resource's objects (storageSegment in
   * src/server/kinds/define.ts). Two served versions of one resource share it.
   */
  readonly storage: string;
  /** metadata.generation is set on create and bumped when the spec changes. */
  readonly tracksGeneration: boolean;
  /**
   * When the resource has a status subresource, create drops a client-sent status (the owning
   * controller or agent reports it) — except kinds whose creator legitimately sends it (Node).
   */
  readonly keepStatusOnCreate: boolean;
  /** Objects expire this long after their last write (Events: apiserver's --event-ttl, 1 h). */
  readonly ttlSeconds?: number;
  /** Served from a computed source instead of the store (metrics.k8s.io). */
  readonly virtual: boolean;
  /** Custom resources only: printer columns from the CRD. */
  readonly printerColumns?: readonly PrinterColumn[];
  /** Custom resources: the version's openAPIV3Schema, for pruning and validation. */
  readonly schema?: unknown;
  /** Custom resources with a scale subresource: where replicas live (dotted JSON paths from the CRD). */
  readonly scalePaths?: ScalePaths;
  /** True for resources served from a CustomResourceDefinition. */
  readonly custom: boolean;
  /** The kind's descriptor, for built-in resources (undefined for custom resources). */
  readonly builtin: BuiltinKind | undefined;
}

export function groupVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

export function hasSubresource(r: ResourceInfo, name: string): boolean {
  return r.subresources.some((s) => s.name === name);
}
