/**
 * The swagger 2.0 document kubectl 1.27/1.28 download from /openapi/v2: decoded with the same
 * trimmed gnostic schema the encoder uses, and checked against what kubectl's v2 parser
 * (kube-openapi pkg/util/proto) and client-side apply read from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openapiAddCrd, openapiRemoveCrd } from '../../../src/server/openapi/index.ts';
import { acceptsSwaggerProtobuf, gnosticRoot, SWAGGER_PROTOBUF, swaggerDocument } from '../../../src/server/openapi/v2/index.ts';
import { toV2Schema } from '../../../src/server/openapi/v2/schema.ts';
import { startInProcessApi } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';

type Msg = Record<string, unknown>;
interface NamedAny { name: string; value?: { yaml?: string } }
interface Schema {
  _ref?: string;
  format?: string;
  description?: string;
  type?: { value: string[] };
  items?: { schema: Schema[] };
  properties?: { additional_properties: { name: string; value: Schema }[] };
  additional_properties?: { schema?: Schema; boolean?: boolean };
  vendor_extension?: NamedAny[];
}
interface Param { parameter?: { body_parameter?: Msg; non_body_parameter?: { query_parameter_sub_schema?: { name: string }; path_parameter_sub_schema?: { name: string } } } }
interface Operation { consumes?: string[]; parameters?: Param[]; vendor_extension?: NamedAny[]; responses?: { response_code: { name: string; value: { response: { schema?: { schema: Schema } } } }[] } }
type PathItem = Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch', Operation>> & { parameters?: Param[] };
interface Document {
  swagger: string;
  info: { title: string; version: string };
  paths: { path: { name: string; value: PathItem }[] };
  definitions: { additional_properties: { name: string; value: Schema }[] };
}

function decode(bytes: Uint8Array): Document {
  const type = gnosticRoot().lookupType('openapi.v2.Document');
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Document;
}

function definitions(doc: Document): Map<string, Schema> {
  return new Map(doc.definitions.additional_properties.map((d) => [d.name, d.value]));
}

function prop(s: Schema | undefined, name: string): Schema | undefined {
  return s?.properties?.additional_properties.find((p) => p.name === name)?.value;
}

/** Vendor extensions as kubectl reads them: each Any.yaml parsed as YAML. */
function ext(list: NamedAny[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((e) => [e.name, parse(e.value?.yaml ?? '')]));
}

function pathItem(doc: Document, path: string): PathItem | undefined {
  return doc.paths.path.find((p) => p.name === path)?.value;
}

function queryNames(op: Operation | undefined): string[] {
  return (op?.parameters ?? []).map((p) => p.parameter?.non_body_parameter?.query_parameter_sub_schema?.name ?? '').filter(Boolean);
}

/** Every schema below (and including) s, with its path, for kubectl-parser invariants. */
function* walk(s: Schema, at: string): Generator<[string, Schema]> {
  yield [at, s];
  for (const p of s.properties?.additional_properties ?? []) yield* walk(p.value, `${at}.${p.name}`);
  for (const i of s.items?.schema ?? []) yield* walk(i, `${at}[]`);
  if (s.additional_properties?.schema) yield* walk(s.additional_properties.schema, `${at}{}`);
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.v2test.example.com' },
  spec: {
    group: 'v2test.example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size', 'note'],
                properties: {
                  size: { type: 'integer', minimum: 1, maximum: 9 },
                  mode: { type: 'string', enum: ['on', 'off'], default: 'on' },
                  port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  note: { type: 'string', nullable: true },
                  blob: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
                  anything: { type: 'array', 'x-kubernetes-preserve-unknown-fields': true, items: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    ],
  },
};

describe('swagger 2.0 document (gnostic protobuf)', () => {
  const doc = decode(swaggerDocument().proto);
  const defs = definitions(doc);

  it('is a swagger 2.0 document with the built-in definitions under upstream names', () => {
    expect(doc.swagger).toBe('2.0');
    expect(doc.info.title).toBe('Kubernetes');
    for (const name of ['io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.PodSpec', 'io.k8s.api.apps.v1.Deployment', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.api.core.v1.ConfigMapList'])
      expect(defs.has(name), name).toBe(true);
    expect(defs.size).toBe(Object.keys((JSON.parse(swaggerDocument().json) as { definitions: object }).definitions).length);
  });

  it('carries x-kubernetes-group-version-kind on kinds, as the list kubectl maps to models', () => {
    expect(ext(defs.get('io.k8s.api.core.v1.Pod')?.vendor_extension)['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    expect(ext(defs.get('io.k8s.api.apps.v1.Deployment')?.vendor_extension)['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  });

  it('keeps patch merge keys and strategies where client-side apply reads them', () => {
    const containers = prop(defs.get('io.k8s.api.core.v1.PodSpec'), 'containers');
    expect(ext(containers?.vendor_extension)).toMatchObject({ 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });
    expect(containers?.type?.value).toEqual(['array']);
    expect(containers?.items?.schema.map((i) => i._ref)).toEqual(['#/definitions/io.k8s.api.core.v1.Container']);
    const ports = prop(defs.get('io.k8s.api.core.v1.Container'), 'ports');
    expect(ext(ports?.vendor_extension)['x-kubernetes-patch-merge-key']).toBe('containerPort');
  });

  it('turns allOf-wrapped references into a $ref beside the description', () => {
    const spec = prop(defs.get('io.k8s.api.core.v1.Pod'), 'spec');
    expect(spec?._ref).toBe('#/definitions/io.k8s.api.core.v1.PodSpec');
    expect(spec?.description).toMatch(/desired behavior of the pod/);
    expect(spec?.type).toBeUndefined();
  });

  it('publishes IntOrString and Quantity as strings like upstream v2', () => {
    const ios = defs.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    expect(ios?.type?.value).toEqual(['string']);
    expect(ios?.format).toBe('int-or-string');
    expect(defs.get('io.k8s.apimachinery.pkg.api.resource.Quantity')?.type?.value).toEqual(['string']);
  });

  it('only has schemas kubectl v2 parser accepts: no dangling or foreign refs, typed refs, item-less arrays or multi-types', () => {
    const problems: string[] = [];
    for (const [name, def] of defs)
      for (const [at, s] of walk(def, name)) {
        if (s._ref !== undefined) {
          if (!s._ref.startsWith('#/definitions/') || !defs.has(s._ref.slice('#/definitions/'.length))) problems.push(`${at}: ref ${s._ref}`);
          if (s.type || s.properties) problems.push(`${at}: ref with type or properties`);
        }
        if ((s.type?.value.length ?? 0) > 1) problems.push(`${at}: several types`);
        if (s.type?.value[0] === 'array' && s.items?.schema.length !== 1) problems.push(`${at}: array without one items schema`);
      }
    expect(problems).toEqual([]);
  });

  it('puts the GVK map, SMP consumes and the fieldValidation parameter on PATCH, as kubectl 1.27 looks for them', () => {
    const item = pathItem(doc, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}');
    expect(ext(item?.patch?.vendor_extension)['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', kind: 'Deployment', version: 'v1' });
    expect(item?.patch?.consumes).toContain('application/strategic-merge-patch+json');
    expect(queryNames(item?.patch)).toEqual(expect.arrayContaining(['fieldValidation', 'fieldManager', 'dryRun', 'force']));
    expect(item?.patch?.parameters?.[0]?.parameter?.body_parameter).toMatchObject({ name: 'body', in: 'body', required: true });
    expect(item?.parameters?.map((p) => p.parameter?.non_body_parameter?.path_parameter_sub_schema?.name).filter(Boolean)).toEqual(['name', 'namespace']);
    const ok = item?.get?.responses?.response_code.find((r) => r.name === '200');
    expect(ok?.value.response.schema?.schema._ref).toBe('#/definitions/io.k8s.api.apps.v1.Deployment');
    const pods = pathItem(doc, '/api/v1/namespaces/{namespace}/pods');
    expect(ext(pods?.post?.vendor_extension)['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'Pod', version: 'v1' });
  });

  it('is built once and cached until the set of v3 documents changes', () => {
    expect(swaggerDocument()).toBe(swaggerDocument());
  });
});

describe('CustomResourceDefinitions in the v2 document', () => {
  afterAll(() => openapiRemoveCrd(crd.metadata.name));

  it('adds served CRD versions with upstream v2 structural rules, and removes them again', () => {
    const before = swaggerDocument();
    openapiAddCrd(crd);
    const added = swaggerDocument();
    expect(added.hash).not.toBe(before.hash);
    const defs = definitions(decode(added.proto));
    const widget = defs.get('com.example.v2test.v1.Widget');
    expect(ext(widget?.vendor_extension)['x-kubernetes-group-version-kind']).toEqual([{ group: 'v2test.example.com', kind: 'Widget', version: 'v1' }]);
    expect(prop(widget, 'metadata')?._ref).toBe('#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    const spec = JSON.parse(added.json).definitions['com.example.v2test.v1.Widget'].properties.spec;
    expect(spec.required).toEqual(['size']);
    expect(spec.properties.size).toEqual({ type: 'integer', minimum: 1, maximum: 9 });
    expect(spec.properties.mode).toEqual({ type: 'string', enum: ['on', 'off'], default: 'on' });
    expect(spec.properties.port).toEqual({ 'x-kubernetes-int-or-string': true });
    expect(spec.properties.note).toEqual({});
    expect(spec.properties.blob).toEqual({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(spec.properties.anything).toEqual({ 'x-kubernetes-preserve-unknown-fields': true });
    // Strings YAML 1.1 would read as booleans stay strings for kubectl's yaml.v2.
    const mode = prop(prop(widget, 'spec'), 'mode') as Schema & { enum?: { yaml: string }[]; default?: { yaml: string } };
    expect(mode.enum?.map((e) => e.yaml)).toEqual(['"on"\n', '"off"\n']);
    const item = pathItem(decode(added.proto), '/apis/v2test.example.com/v1/namespaces/{namespace}/widgets/{name}');
    expect(ext(item?.patch?.vendor_extension)['x-kubernetes-group-version-kind']).toEqual({ group: 'v2test.example.com', kind: 'Widget', version: 'v1' });
    // Custom resources take no strategic merge patch: kubectl 1.27 must fall back to merge patch.
    expect(item?.patch?.consumes).toEqual(expect.arrayContaining(['application/merge-patch+json', 'application/apply-patch+yaml']));
    expect(item?.patch?.consumes).not.toContain('application/strategic-merge-patch+json');

    openapiRemoveCrd(crd.metadata.name);
    const removed = swaggerDocument();
    expect(removed.hash).toBe(before.hash);
    expect(definitions(decode(removed.proto)).has('com.example.v2test.v1.Widget')).toBe(false);
  });
});

describe('toV2Schema', () => {
  it('rewrites refs, drops oneOf/anyOf/not and keeps vendor extensions', () => {
    expect(toV2Schema({ description: 'd', allOf: [{ $ref: '#/components/schemas/a.B' }], default: {} })).toEqual({ description: 'd', default: {}, $ref: '#/definitions/a.B' });
    expect(toV2Schema({ type: 'object', additionalProperties: { allOf: [{ $ref: '#/components/schemas/a.B' }] }, 'x-kubernetes-map-type': 'atomic' })).toEqual({
      type: 'object',
      additionalProperties: { $ref: '#/definitions/a.B' },
      'x-kubernetes-map-type': 'atomic',
    });
    expect(toV2Schema({ anyOf: [{ type: 'string' }], not: { type: 'integer' }, type: 'string' })).toEqual({ type: 'string' });
  });
});

describe('GET /openapi/v2 and /swagger-2.0.0.pb-v1', () => {
  let api: InProcessApi;
  beforeAll(async () => {
    api = await startInProcessApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers protobuf when asked for it, with a Go-parsable media type', async () => {
    expect(acceptsSwaggerProtobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf')).toBe(true);
    expect(acceptsSwaggerProtobuf('application/json')).toBe(false);
    const r = await api.request('GET', '/openapi/v2?timeout=32s', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(SWAGGER_PROTOBUF);
    expect(SWAGGER_PROTOBUF).not.toContain('@');
    expect(Number(r.headers['content-length'])).toBe(swaggerDocument().proto.length);
    const again = await api.request('GET', '/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'if-none-match': String(r.headers.etag) } });
    expect(again.status).toBe(304);
  });

  it('answers JSON otherwise, and always protobuf on the legacy path', async () => {
    const json = await api.request('GET', '/openapi/v2', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    const body = JSON.parse(json.body) as { swagger: string; definitions: Record<string, unknown> };
    expect(body.swagger).toBe('2.0');
    expect(body.definitions['io.k8s.api.core.v1.Pod']).toBeDefined();
    const legacy = await api.request('GET', '/swagger-2.0.0.pb-v1');
    expect(legacy.status).toBe(200);
    expect(legacy.headers['content-type']).toBe(SWAGGER_PROTOBUF);
    expect(json.headers.etag).not.toBe(legacy.headers.etag);
  });
});
