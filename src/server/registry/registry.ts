import { builtinResources } from './builtin.ts';
import { groupVersion } from './types.ts';
import type { ResourceInfo } from './types.ts';

export interface ServedGroup {
  readonly name: string;
  /** Served versions, preferred first. */
  readonly versions: readonly string[];
}

/**
 * Every served resource, looked up by (group, version, plural). Built-ins are fixed; custom
 * resources are replaced whenever their CustomResourceDefinition changes. Group order is the
 * discovery order, which decides which group wins when kubectl resolves an ambiguous plural
 * (core `pods` before `metrics.k8s.io` pods), so built-in groups keep their place.
 */
export class ResourceRegistry {
  readonly #builtin: ResourceInfo[];
  readonly #custom = new Map<string, ResourceInfo[]>();

  constructor(builtin: ResourceInfo[] = builtinResources()) {
    this.#builtin = builtin;
  }

  all(): ResourceInfo[] {
    const out = [...this.#builtin];
    for (const list of this.#custom.values()) out.push(...list);
    return out;
  }

  resolve(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.all().find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  inGroupVersion(group: string, version: string): ResourceInfo[] {
    return this.all().filter((r) => r.group === group && r.version === version);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.all().some((r) => r.group === group && r.version === version);
  }

  /** Non-core groups in discovery order. */
  groups(): ServedGroup[] {
    const order: string[] = [];
    const versions = new Map<string, string[]>();
    for (const r of this.all()) {
      if (r.group === '') continue;
      let vs = versions.get(r.group);
      if (!vs) {
        vs = [];
        versions.set(r.group, vs);
        order.push(r.group);
      }
      if (!vs.includes(r.version)) vs.push(r.version);
    }
    return order.map((name) => ({ name, versions: versions.get(name) ?? [] }));
  }

  /** Replace the resources served for one CustomResourceDefinition (by its metadata.name). */
  setCustom(crdName: string, resources: ResourceInfo[]): void {
    if (resources.length === 0) this.#custom.delete(crdName);
    else this.#custom.set(crdName, resources);
  }
}

/** The store key of one object, or the list prefix when name is omitted (always ending in "/"). */
export function objectKey(r: ResourceInfo, namespace: string, name: string): string {
  return r.namespaced ? `/registry/${r.storage}/${namespace}/${name}` : `/registry/${r.storage}/${name}`;
}

export function listPrefix(r: ResourceInfo, namespace: string): string {
  return r.namespaced && namespace !== '' ? `/registry/${r.storage}/${namespace}/` : `/registry/${r.storage}/`;
}

export { groupVersion };
