/**
 * OpenAPI schemas and paths for the served versions of a CustomResourceDefinition, the way
 * apiextensions-apiserver's openapi builder publishes them: the version's openAPIV3Schema with
 * apiVersion/kind/metadata (ObjectMeta) added, x-kubernetes-group-version-kind, a <Kind>List, and
 * the usual collection/item/status/scale paths.
 */
import type { ServedResource } from './served.ts';

type Json = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export interface CrdVersionDocs {
  readonly group: string;
  readonly version: string;
  readonly resource: ServedResource;
  readonly schemas: Record<string, Json>;
}

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "stable.example.com" → "com.example.stable", the prefix upstream uses for CR schema names. */
export function reversedGroup(group: string): string {
  return group.split('.').reverse().join('.');
}

const API_VERSION = {
  description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  type: 'string',
};
const KIND = {
  description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
  type: 'string',
};

/** The per-version docs of a CRD, or [] when it is malformed. */
export function crdVersionDocs(crd: unknown): CrdVersionDocs[] {
  if (!isMap(crd) || !isMap(crd.spec)) return [];
  const spec = crd.spec;
  const names = isMap(spec.names) ? spec.names : {};
  const group = typeof spec.group === 'string' ? spec.group : '';
  const kind = typeof names.kind === 'string' ? names.kind : '';
  const plural = typeof names.plural === 'string' ? names.plural : '';
  if (!group || !kind || !plural) return [];
  const listKind = typeof names.listKind === 'string' && names.listKind ? names.listKind : `${kind}List`;
  const namespaced = spec.scope !== 'Cluster';
  const out: CrdVersionDocs[] = [];
  for (const v of Array.isArray(spec.versions) ? spec.versions : []) {
    if (!isMap(v) || v.served !== true || typeof v.name !== 'string') continue;
    const version = v.name;
    const prefix = `${reversedGroup(group)}.${version}`;
    const given = isMap(v.schema) && isMap(v.schema.openAPIV3Schema) ? structuredClone(v.schema.openAPIV3Schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    const properties = isMap(given.properties) ? given.properties : {};
    const schema: Json = {
      ...given,
      properties: {
        ...properties,
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", allOf: [{ $ref: `#/components/schemas/${META}.ObjectMeta` }] },
      },
      type: 'object',
      'x-kubernetes-group-version-kind': [{ group, kind, version }],
    };
    const list: Json = {
      description: `${listKind} is a list of ${kind}`,
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: API_VERSION,
        items: { description: `List of ${plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: { $ref: `#/components/schemas/${prefix}.${kind}` } },
        kind: KIND,
        metadata: { description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds', allOf: [{ $ref: `#/components/schemas/${META}.ListMeta` }] },
      },
      'x-kubernetes-group-version-kind': [{ group, kind: listKind, version }],
    };
    const subresources = isMap(v.subresources) ? v.subresources : {};
    const subs: ('status' | 'scale')[] = [];
    if (isMap(subresources.status)) subs.push('status');
    if (isMap(subresources.scale)) subs.push('scale');
    out.push({
      group,
      version,
      resource: { resource: plural, kind, namespaced, schema: `${prefix}.${kind}`, custom: true, ...(subs.length ? { subresources: subs } : {}) },
      schemas: { [`${prefix}.${kind}`]: schema, [`${prefix}.${kind}List`]: list },
    });
  }
  return out;
}
