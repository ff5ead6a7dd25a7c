/**
 * The documents behind GET /openapi/v3 and /openapi/v3/<group-version>: built-in schemas (generated
 * from kubernetes-types by scripts/gen-openapi.ts into schemas.json) plus the schemas of served
 * CustomResourceDefinition versions. Each group/version document carries only the schemas its
 * kinds reach, like kube-apiserver's, and is cached until a CRD change touches it.
 */
import { createHash } from 'node:crypto';
import builtinSchemas from './schemas.json' with { type: 'json' };
import { crdVersionDocs } from './crd-schema.ts';
import { pathSchemaNames, resourcePaths } from './paths.ts';
import { groupVersionPath, servedGroupVersions, type ServedGroupVersion, type ServedResource } from './served.ts';

type Json = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
/** Referenced by every PATCH body; upstream publishes it as an opaque object. */
const EXTRA_SCHEMAS: Record<string, Json> = {
  [`${META}.Patch`]: { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
};
const BUILTIN: Record<string, Json> = { ...(builtinSchemas as Record<string, Json>), ...EXTRA_SCHEMAS };

let published: ServedGroupVersion[] | undefined;

/** The built-in group/versions with published documents (registry kinds that have schemas). */
export function publishedGroupVersions(): readonly ServedGroupVersion[] {
  published ??= servedGroupVersions((name) => Object.hasOwn(BUILTIN, name));
  return published;
}

interface GroupVersionEntry {
  readonly group: string;
  readonly version: string;
  readonly resources: ServedResource[];
  readonly schemas: Record<string, Json>;
}

interface Rendered {
  readonly body: string;
  readonly hash: string;
}

/** Every $ref target reachable from the given schema names. */
function closure(roots: readonly string[], lookup: (name: string) => Json | undefined): Record<string, Json> {
  const out: Record<string, Json> = {};
  const queue = [...roots];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null)
      for (const [k, child] of Object.entries(v)) {
        if (k === '$ref' && typeof child === 'string' && child.startsWith('#/components/schemas/')) queue.push(child.slice('#/components/schemas/'.length));
        else visit(child);
      }
  };
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (out[name]) continue;
    const schema = lookup(name);
    if (!schema) continue;
    out[name] = schema;
    visit(schema);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export class OpenApiDocs {
  readonly #builtin = new Map<string, GroupVersionEntry>();
  /** CRD name → the group/version paths it contributes to. */
  readonly #crds = new Map<string, ReturnType<typeof crdVersionDocs>>();
  readonly #cache = new Map<string, Rendered>();

  constructor() {
    for (const gv of publishedGroupVersions())
      this.#builtin.set(groupVersionPath(gv.group, gv.version), { group: gv.group, version: gv.version, resources: [...gv.resources], schemas: {} });
  }

  /** Add or replace a CRD's served versions (call on every CRD create/update). */
  addCrd(crd: unknown): void {
    const name = crdName(crd);
    if (!name) return;
    this.removeCrd(name);
    const docs = crdVersionDocs(crd);
    this.#crds.set(name, docs);
    for (const d of docs) this.#cache.delete(groupVersionPath(d.group, d.version));
  }

  removeCrd(name: string): void {
    const docs = this.#crds.get(name);
    if (!docs) return;
    this.#crds.delete(name);
    for (const d of docs) this.#cache.delete(groupVersionPath(d.group, d.version));
  }

  /** GET /openapi/v3. */
  root(): Json {
    const paths: Record<string, Json> = {};
    for (const key of [...this.#entries().keys()].sort()) {
      const rendered = this.#render(key);
      if (rendered) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${rendered.hash}` };
    }
    return { paths };
  }

  /** GET /openapi/v3/<path> ("api/v1", "apis/apps/v1"); undefined when not served. */
  groupVersion(path: string): Json | undefined {
    const rendered = this.#render(normalize(path));
    return rendered ? (JSON.parse(rendered.body) as Json) : undefined;
  }

  /** The serialized document and its hash, for ETag / immutable caching by the API layer. */
  groupVersionBody(path: string): Rendered | undefined {
    return this.#render(normalize(path));
  }

  #entries(): Map<string, GroupVersionEntry> {
    const entries = new Map<string, GroupVersionEntry>();
    for (const [k, v] of this.#builtin) entries.set(k, { ...v, resources: [...v.resources], schemas: {} });
    for (const docs of this.#crds.values())
      for (const d of docs) {
        const key = groupVersionPath(d.group, d.version);
        const entry = entries.get(key) ?? { group: d.group, version: d.version, resources: [], schemas: {} };
        entry.resources.push(d.resource);
        Object.assign(entry.schemas, d.schemas);
        entries.set(key, entry);
      }
    return entries;
  }

  #render(key: string): Rendered | undefined {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const entry = this.#entries().get(key);
    if (!entry) return undefined;
    const paths: Record<string, Json> = {};
    const roots: string[] = [];
    for (const res of [...entry.resources].sort((a, b) => (a.resource < b.resource ? -1 : 1))) {
      Object.assign(paths, resourcePaths(entry.group, entry.version, res));
      roots.push(res.schema, `${res.schema}List`, ...pathSchemaNames(res));
    }
    const schemas = closure(roots, (name) => entry.schemas[name] ?? BUILTIN[name]);
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.32.0' },
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : 1))),
      components: { schemas },
    };
    const body = JSON.stringify(doc);
    // kube-apiserver uses the upper-case hex SHA-512 of the document as its hash.
    const rendered = { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
    this.#cache.set(key, rendered);
    return rendered;
  }
}

function crdName(crd: unknown): string | undefined {
  if (typeof crd !== 'object' || crd === null) return undefined;
  const meta = (crd as { metadata?: { name?: unknown } }).metadata;
  return typeof meta?.name === 'string' && meta.name ? meta.name : undefined;
}

function normalize(path: string): string {
  return path.replace(/^\/+/, '').replace(/^openapi\/v3\//, '').replace(/\?.*$/, '').replace(/\/+$/, '');
}
