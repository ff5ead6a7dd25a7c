/**
 * Custom resources served from CustomResourceDefinitions. A CRD is served once its
 * `Established` condition would be true in Kubernetes; edgeos establishes every valid CRD at once
 * (there is no naming controller yet), so serving follows the stored CRD directly.
 */
import { scaleSubresource, statusSubresource, storageSegment } from '../kinds/define.ts';
import type { PrinterColumn, ResourceInfo, ScalePaths, SubresourceInfo } from './types.ts';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The resources one CRD serves: one per served version. Empty when the CRD is malformed or deleting. */
export function resourcesFromCrd(crd: Json): ResourceInfo[] {
  const spec = obj(crd.spec);
  const names = obj(spec.names);
  const group = typeof spec.group === 'string' ? spec.group : '';
  const plural = typeof names.plural === 'string' ? names.plural : '';
  const kind = typeof names.kind === 'string' ? names.kind : '';
  if (!group || !plural || !kind) return [];
  if (obj(crd.metadata).deletionTimestamp) return [];
  const namespaced = spec.scope !== 'Cluster';
  const out: ResourceInfo[] = [];
  const versions = Array.isArray(spec.versions) ? spec.versions.map(obj) : [];
  for (const v of versions) {
    if (v.served !== true || typeof v.name !== 'string') continue;
    const sub = obj(v.subresources);
    const subresources: SubresourceInfo[] = [];
    if ('status' in sub) subresources.push(statusSubresource(group, v.name, kind));
    if ('scale' in sub) subresources.push(scaleSubresource);
    const printerColumns: PrinterColumn[] = (Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : [])
      .map(obj)
      .filter((c) => typeof c.name === 'string' && typeof c.jsonPath === 'string')
      .map((c) => ({
        name: c.name as string,
        type: typeof c.type === 'string' ? c.type : 'string',
        format: typeof c.format === 'string' ? c.format : undefined,
        description: typeof c.description === 'string' ? c.description : undefined,
        priority: typeof c.priority === 'number' ? c.priority : 0,
        jsonPath: c.jsonPath as string,
      }));
    const scale = obj(sub.scale);
    const scalePaths: ScalePaths | undefined =
      typeof scale.specReplicasPath === 'string' && typeof scale.statusReplicasPath === 'string'
        ? {
            specReplicasPath: scale.specReplicasPath,
            statusReplicasPath: scale.statusReplicasPath,
            labelSelectorPath: typeof scale.labelSelectorPath === 'string' ? scale.labelSelectorPath : undefined,
          }
        : undefined;
    out.push({
      group,
      version: v.name,
      kind,
      listKind: typeof names.listKind === 'string' ? names.listKind : `${kind}List`,
      plural,
      singular: typeof names.singular === 'string' ? names.singular : kind.toLowerCase(),
      namespaced,
      shortNames: strings(names.shortNames),
      categories: strings(names.categories),
      verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
      subresources,
      storage: storageSegment(group, plural),
      tracksGeneration: true,
      keepStatusOnCreate: false,
      virtual: false,
      printerColumns,
      schema: obj(v.schema).openAPIV3Schema,
      scalePaths,
      custom: true,
      builtin: undefined,
    });
  }
  return out;
}

