/**
 * The swagger 2.0 document behind GET /openapi/v2, built from the OpenAPI v3 group/version
 * documents (so it carries exactly the kinds, paths and CRD schemas that /openapi/v3 publishes)
 * and merged into one document like kube-apiserver's. It is rebuilt only when the set of v3
 * documents changes (their hashes are in the /openapi/v3 root, which moves when a CRD is added,
 * changed or removed); the JSON, the gnostic protobuf encoding and the ETag are cached until then.
 */
import { createHash } from 'node:crypto';
import { openapiGroupVersionBody, openapiRoot, publishedGroupVersions } from '../index.ts';
import { encodeSwagger } from './encode.ts';
import { pathItemGvk, toV2PathItem } from './paths.ts';
import { toV2Schema } from './schema.ts';

type Json = Record<string, unknown>;

export interface SwaggerDocument {
  /** The swagger 2.0 document as JSON text. */
  readonly json: string;
  /** The same document as gnostic openapi.v2.Document protobuf. */
  readonly proto: Uint8Array;
  /** Upper-case hex SHA-512 of the JSON text, as kube-apiserver's ETag. */
  readonly hash: string;
}

let cached: { key: string; doc: SwaggerDocument } | undefined;
let builtinKinds: Set<string> | undefined;

/**
 * Whether a path item serves a built-in kind (strategic merge patch works) rather than a custom
 * resource. Scale (the scale subresource of built-ins and CRs alike) is a built-in kind.
 */
function servesBuiltin(item: Json): boolean {
  builtinKinds ??= new Set([
    ...publishedGroupVersions().flatMap((gv) => gv.resources.map((r) => `${gv.group}/${gv.version}/${r.kind}`)),
    'autoscaling/v1/Scale',
  ]);
  const gvk = pathItemGvk(item);
  return gvk !== undefined && builtinKinds.has(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

function sorted(o: Json): Json {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Build (or return the cached) swagger document. */
export function swaggerDocument(): SwaggerDocument {
  const root = openapiRoot() as { paths?: Record<string, unknown> };
  const key = JSON.stringify(root);
  if (cached?.key === key) return cached.doc;
  const paths: Json = {};
  const definitions: Json = {};
  let info: Json = { title: 'Kubernetes', version: 'unversioned' };
  for (const gv of Object.keys(root.paths ?? {}).sort()) {
    const rendered = openapiGroupVersionBody(gv);
    if (!rendered) continue;
    const v3 = JSON.parse(rendered.body) as { info?: Json; paths?: Record<string, Json>; components?: { schemas?: Record<string, Json> } };
    if (v3.info) info = { title: v3.info.title, version: v3.info.version };
    for (const [path, item] of Object.entries(v3.paths ?? {})) paths[path] = toV2PathItem(item, servesBuiltin(item));
    for (const [name, schema] of Object.entries(v3.components?.schemas ?? {})) definitions[name] ??= toV2Schema(schema);
  }
  const swagger = { swagger: '2.0', info, paths: sorted(paths), definitions: sorted(definitions) };
  const json = JSON.stringify(swagger);
  const doc: SwaggerDocument = { json, proto: encodeSwagger(swagger), hash: createHash('sha512').update(json).digest('hex').toUpperCase() };
  cached = { key, doc };
  return doc;
}
