import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenApiDocs, groupVersionPath, publishedGroupVersions } from '../../../src/server/openapi/index.ts';
import { builtinResources } from '../../../src/server/registry/index.ts';

type Json = Record<string, unknown>;
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', description: 'A cron tab.', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string', description: 'When to run.' } } } } } },
      },
      { name: 'v0', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  },
};

function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => refs(x, out));
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x);
      else refs(x, out);
    }
  return out;
}

function checkDoc(doc: Doc, group: string, version: string, kinds: readonly string[]): void {
  expect(doc.openapi).toBe('3.0.0');
  const schemas = doc.components.schemas;
  // Every $ref resolves inside the document (kubectl reads one GV document at a time).
  for (const ref of refs(doc)) expect(schemas[ref.replace('#/components/schemas/', '')], ref).toBeDefined();
  for (const kind of kinds) {
    const schema = Object.values(schemas).find((s) =>
      (s['x-kubernetes-group-version-kind'] as Json[] | undefined)?.some((g) => g.group === group && g.version === version && g.kind === kind),
    );
    expect(schema, `${kind} schema`).toBeDefined();
    const props = (schema as { properties: Record<string, Json> }).properties;
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'metadata']));
    // kubectl sends fieldValidation=Strict only when the kind's PATCH declares the parameter.
    const patches = Object.values(doc.paths)
      .map((p) => p.patch)
      .filter((op): op is Json => op !== undefined && (op['x-kubernetes-group-version-kind'] as Json).kind === kind && (op['x-kubernetes-group-version-kind'] as Json).group === group);
    expect(patches.length, `${kind} patch operations`).toBeGreaterThan(0);
    for (const op of patches) expect((op.parameters as Json[]).map((p) => p.name)).toContain('fieldValidation');
  }
}

describe('OpenAPI v3 documents', () => {
  it('the root lists every served group/version with a content hash', () => {
    const docs = new OpenApiDocs();
    const root = docs.root() as { paths: Record<string, { serverRelativeURL: string }> };
    const keys = publishedGroupVersions().map((gv) => groupVersionPath(gv.group, gv.version)).sort();
    expect(Object.keys(root.paths)).toEqual(keys);
    for (const key of keys) expect(root.paths[key]?.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${key.replaceAll('.', '\\.')}\\?hash=[0-9A-F]{128}$`));
  });

  it.each(publishedGroupVersions().map((gv) => [groupVersionPath(gv.group, gv.version), gv] as const))('%s parses and carries GVK extensions', (key, gv) => {
    const docs = new OpenApiDocs();
    const body = docs.groupVersionBody(key);
    expect(body).toBeDefined();
    const doc = JSON.parse(body!.body) as Doc;
    checkDoc(doc, gv.group, gv.version, gv.resources.map((r) => r.kind));
  });

  it('schemas are complete where kubectl looks: metadata, containers, deployment spec', () => {
    const core = new OpenApiDocs().groupVersion('/openapi/v3/api/v1?hash=x&timeout=32s') as unknown as Doc;
    const s = core.components.schemas;
    const objectMeta = s['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'] as { properties: Json };
    expect(Object.keys(objectMeta.properties)).toEqual(expect.arrayContaining(['annotations', 'labels', 'name', 'namespace', 'ownerReferences', 'finalizers']));
    const podSpec = s['io.k8s.api.core.v1.PodSpec'] as { properties: Record<string, Json>; required: string[] };
    expect(podSpec.required).toEqual(['containers']);
    expect(podSpec.properties.containers).toMatchObject({
      type: 'array',
      items: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }] },
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
    });
    const container = s['io.k8s.api.core.v1.Container'] as { properties: Record<string, Json>; description: string };
    expect(container.description).toMatch(/single application container/);
    expect(container.properties.ports).toMatchObject({ 'x-kubernetes-patch-merge-key': 'containerPort' });
    expect(container.properties.image?.type).toBe('string');
    const apps = new OpenApiDocs().groupVersion('apis/apps/v1') as unknown as Doc;
    const strategy = (apps.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'] as { properties: Record<string, Json> }).properties.strategy;
    expect(strategy).toMatchObject({ 'x-kubernetes-patch-strategy': 'retainKeys' });
    expect(apps.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] });
  });

  it('every stored kind the registry serves has a document (else kubectl create -f fails)', () => {
    const published = new Set(publishedGroupVersions().flatMap((gv) => gv.resources.map((r) => `${gv.group}/${gv.version}/${r.resource}`)));
    const missing = builtinResources()
      .filter((r) => !r.virtual)
      .map((r) => `${r.group}/${r.version}/${r.plural}`)
      .filter((k) => !published.has(k));
    expect(missing).toEqual([]);
  });

  it('unknown group/versions are undefined', () => {
    expect(new OpenApiDocs().groupVersion('apis/example.com/v1')).toBeUndefined();
  });

  it('publishes, updates and withdraws CRD versions', () => {
    const docs = new OpenApiDocs();
    const key = 'apis/stable.example.com/v1';
    docs.addCrd(crd);
    const root1 = docs.root() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(root1.paths)).toContain(key);
    expect(Object.keys(root1.paths)).not.toContain('apis/stable.example.com/v0');
    const doc = docs.groupVersion(key) as unknown as Doc;
    checkDoc(doc, 'stable.example.com', 'v1', ['CronTab']);
    const schema = doc.components.schemas['com.example.stable.v1.CronTab'] as { properties: Record<string, Json>; description: string };
    expect(schema.description).toBe('A cron tab.');
    expect(schema.properties.metadata).toMatchObject({ allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] });
    expect(Object.keys(doc.paths)).toEqual([
      '/apis/stable.example.com/v1/crontabs',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}',
      '/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status',
    ]);

    const changed = structuredClone(crd);
    changed.spec.versions[0]!.schema.openAPIV3Schema.description = 'Changed.';
    docs.addCrd(changed);
    const root2 = docs.root() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(root2.paths[key]?.serverRelativeURL).not.toBe(root1.paths[key]?.serverRelativeURL);
    expect(root2.paths['api/v1']?.serverRelativeURL).toBe(root1.paths['api/v1']?.serverRelativeURL);

    docs.removeCrd(crd.metadata.name);
    expect(docs.groupVersion(key)).toBeUndefined();
  });
});

describe('generated schemas.json', () => {
  it('matches what scripts/gen-openapi.ts produces from kubernetes-types', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const dir = mkdtempSync(join(tmpdir(), 'edgeos-openapi-'));
    try {
      const out = join(dir, 'schemas.json');
      execFileSync(process.execPath, [join(root, 'scripts/gen-openapi.ts'), out], { stdio: 'ignore' });
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(root, 'src/server/openapi/schemas.json'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
