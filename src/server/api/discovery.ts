/**
 * Discovery documents (kubectl-wire.md §1): /api and /apis as plain APIVersions/APIGroupList or,
 * when the Accept header asks, aggregated APIGroupDiscoveryList (v2 or v2beta1) with the exact
 * matching Content-Type; /apis/<group> as APIGroup; /api/v1 and /apis/<g>/<v> as APIResourceList
 * (drain reads /api/v1 for pods/eviction even with aggregated discovery).
 */
import { createHash } from 'node:crypto';
import type { ResourceInfo, ResourceRegistry } from '../registry/index.ts';
import { groupVersion } from '../registry/index.ts';
import { aggregatedDiscoveryType } from './negotiate.ts';

export interface DiscoveryAnswer {
  readonly body: unknown;
  readonly contentType: string;
}

/** apiserver's storageVersionHash: 8 bytes of sha256 over group/version/kind, base64. */
function storageVersionHash(r: ResourceInfo): string {
  return createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest().subarray(0, 8).toString('base64');
}

function apiResources(r: ResourceInfo): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
  };
  if (r.shortNames.length > 0) main.shortNames = r.shortNames;
  if (r.categories.length > 0) main.categories = r.categories;
  if (!r.virtual) main.storageVersionHash = storageVersionHash(r);
  const subs = r.subresources.map((s) => {
    const e: Record<string, unknown> = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.responseKind.kind, verbs: s.verbs };
    if (s.responseKind.group !== r.group || s.responseKind.version !== r.version) {
      e.group = s.responseKind.group;
      e.version = s.responseKind.version;
    }
    return e;
  });
  return [main, ...subs];
}

export function resourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(group, version),
    resources: registry.inGroupVersion(group, version).flatMap(apiResources),
  };
}

function discoveryResource(r: ResourceInfo): Record<string, unknown> {
  const e: Record<string, unknown> = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
  };
  if (r.shortNames.length > 0) e.shortNames = r.shortNames;
  if (r.categories.length > 0) e.categories = r.categories;
  if (r.subresources.length > 0) {
    e.subresources = r.subresources.map((s) => ({ subresource: s.name, responseKind: s.responseKind, verbs: s.verbs }));
  }
  return e;
}

function discoveryGroup(registry: ResourceRegistry, name: string, versions: readonly string[]): Record<string, unknown> {
  return {
    metadata: name === '' ? { creationTimestamp: null } : { name, creationTimestamp: null },
    versions: versions.map((v) => ({ version: v, resources: registry.inGroupVersion(name, v).map(discoveryResource), freshness: 'Current' })),
  };
}

function aggregated(apiVersion: string, items: unknown[]): Record<string, unknown> {
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}

export function apiRoot(registry: ResourceRegistry, accept: string | undefined, serverAddress: string): DiscoveryAnswer {
  const agg = aggregatedDiscoveryType(accept);
  if (agg) return { body: aggregated(`apidiscovery.k8s.io/${agg.version}`, [discoveryGroup(registry, '', ['v1'])]), contentType: agg.type };
  return {
    body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] },
    contentType: 'application/json',
  };
}

function apiGroup(name: string, versions: readonly string[]): Record<string, unknown> {
  const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

export function apisRoot(registry: ResourceRegistry, accept: string | undefined): DiscoveryAnswer {
  const groups = registry.groups();
  const agg = aggregatedDiscoveryType(accept);
  if (agg) return { body: aggregated(`apidiscovery.k8s.io/${agg.version}`, groups.map((g) => discoveryGroup(registry, g.name, g.versions))), contentType: agg.type };
  return { body: { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g.name, g.versions)) }, contentType: 'application/json' };
}

export function groupDocument(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const g = registry.groups().find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions) } : undefined;
}
