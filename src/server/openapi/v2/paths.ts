/**
 * OpenAPI v3 path items (src/server/openapi/paths.ts) → swagger 2.0 path items. kubectl 1.27/1.28
 * read three things from them: the `x-kubernetes-group-version-kind` of each operation (a map,
 * like upstream), the `consumes` of PATCH (client-side apply sends a strategic merge patch only
 * when it lists application/strategic-merge-patch+json) and the PATCH query parameter
 * `fieldValidation` (present → validation is left to the server). Parameters are written inline,
 * never as `#/parameters/` references, because kubectl's v2 param check looks only at inline ones.
 */
import { toV2Schema } from './schema.ts';

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
/** What kube-apiserver lists as `produces` on its resource operations. */
const PRODUCES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function firstSchema(content: unknown): Json | undefined {
  if (!isMap(content)) return undefined;
  for (const media of Object.values(content)) if (isMap(media) && isMap(media.schema)) return media.schema;
  return undefined;
}

/** A v3 query/path parameter: the type moves from `schema` up into the parameter. */
function parameter(p: Json): Json {
  const schema = isMap(p.schema) ? p.schema : {};
  const out: Json = { name: p.name, in: p.in };
  if (typeof p.description === 'string') out.description = p.description;
  if (p.required === true) out.required = true;
  if (typeof schema.type === 'string') out.type = schema.type;
  if (typeof schema.format === 'string') out.format = schema.format;
  if (schema.uniqueItems === true) out.uniqueItems = true;
  return out;
}

function parameters(list: unknown): Json[] {
  return Array.isArray(list) ? list.filter(isMap).map(parameter) : [];
}

const STRATEGIC_MERGE = 'application/strategic-merge-patch+json';

function operation(op: Json, strategicMerge: boolean): Json {
  const out: Json = {};
  if (typeof op.description === 'string') out.description = op.description;
  const body = isMap(op.requestBody) ? op.requestBody : undefined;
  // kube-apiserver: PATCH consumes the patch types; other writes consume */*.
  if (body && isMap(body.content)) {
    const types = Object.keys(body.content);
    out.consumes = types.some((t) => t.includes('patch')) ? types.filter((t) => strategicMerge || t !== STRATEGIC_MERGE) : ['*/*'];
  }
  out.produces = PRODUCES;
  out.schemes = ['https'];
  if (Array.isArray(op.tags)) out.tags = op.tags;
  if (typeof op.operationId === 'string') out.operationId = op.operationId;
  const params = parameters(op.parameters);
  const bodySchema = body ? firstSchema(body.content) : undefined;
  if (bodySchema) params.unshift({ name: 'body', in: 'body', required: body?.required === true, schema: toV2Schema(bodySchema) });
  if (params.length) out.parameters = params;
  const responses: Json = {};
  for (const [code, r] of Object.entries(isMap(op.responses) ? op.responses : {})) {
    if (!isMap(r)) continue;
    const schema = firstSchema(r.content);
    responses[code] = { description: typeof r.description === 'string' ? r.description : code, ...(schema ? { schema: toV2Schema(schema) } : {}) };
  }
  out.responses = responses;
  for (const [k, v] of Object.entries(op)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

/** The `x-kubernetes-group-version-kind` of a path item's first operation. */
export function pathItemGvk(item: Json): { group: string; version: string; kind: string } | undefined {
  for (const m of METHODS) {
    const gvk = isMap(item[m]) ? item[m]['x-kubernetes-group-version-kind'] : undefined;
    if (isMap(gvk)) return { group: String(gvk.group ?? ''), version: String(gvk.version ?? ''), kind: String(gvk.kind ?? '') };
  }
  return undefined;
}

/**
 * Convert one v3 path item. `strategicMerge` false leaves application/strategic-merge-patch+json
 * out of PATCH `consumes`, as apiextensions-apiserver does for custom resources: kubectl 1.27
 * client-side apply picks SMP whenever it is listed, and custom resources answer it with 415.
 */
export function toV2PathItem(item: Json, strategicMerge = true): Json {
  const out: Json = {};
  for (const m of METHODS) if (isMap(item[m])) out[m] = operation(item[m], strategicMerge);
  const params = parameters(item.parameters);
  if (params.length) out.parameters = params;
  return out;
}
