/**
 * Typed decoding, table-driven: every JSON type (string, integer, float, boolean, null, object,
 * array) at every level of a Pod, a Deployment and a Service — top level, metadata, label and
 * annotation maps and their values, spec, lists of objects, map values, int-or-string and quantity
 * fields. A wrong type is a 400 in kube-apiserver's words naming the Go field and type, with the
 * exact path in details.causes, and nothing is stored; a right one (null included: Go decodes it to
 * the zero value) is accepted. Then the same check on every other way a body arrives: PUT, the
 * four patch types, YAML, scale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let s: InProcessApi;
beforeAll(async () => {
  s = await startInProcessApi();
});
afterAll(async () => {
  await s?.close();
});

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Json }> {
  const res = await s.request(method, path, { body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } });
  return { status: res.status, json: res.body ? (JSON.parse(res.body) as Json) : {} };
}

const pod = (name: string): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: {
    nodeSelector: { disk: 'ssd' },
    containers: [{
      name: 'web',
      image: 'nginx',
      args: ['-g'],
      ports: [{ containerPort: 80 }],
      env: [{ name: 'A', value: 'b' }],
      resources: { limits: { cpu: '500m' } },
      livenessProbe: { httpGet: { path: '/', port: 80 } },
    }],
  },
});
const deployment = (name: string): Json => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
});
const service = (name: string): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels: { app: 'web' } },
  spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], externalIPs: ['192.0.2.10'] },
});

type JsonType = 'string' | 'integer' | 'float' | 'boolean' | 'null' | 'object' | 'array';
const SAMPLE: Record<JsonType, unknown> = { string: 'x', integer: 7, float: 1.5, boolean: true, null: null, object: { k: 'v' }, array: ['x'] };
/** encoding/json's word for the JSON found (a float into an integer field is named with its literal). */
const FOUND: Record<JsonType, string> = { string: 'string', integer: 'number', float: 'number', boolean: 'bool', null: 'null', object: 'object', array: 'array' };

interface Location {
  /** Where in the object, as segments (numbers index lists). */
  readonly path: readonly (string | number)[];
  /** details.causes[0].field for a wrong value there. */
  readonly field: string;
  /** `Go struct field <go> of type <type>` in the message. */
  readonly go: string;
  readonly type: string;
  /** JSON types the Go field takes; null is always taken. */
  readonly accepts: readonly JsonType[];
  /** A right value per accepted type when the sample would not pass validation (default: SAMPLE, or the base value for objects). */
  readonly right?: Partial<Record<JsonType, unknown>>;
}

interface Kind {
  readonly name: string;
  readonly plural: string;
  readonly make: (name: string) => Json;
  readonly locations: readonly Location[];
}

const POD: Kind = {
  name: 'Pod',
  plural: '/api/v1/namespaces/default/pods',
  make: pod,
  locations: [
    { path: ['spec'], field: 'spec', go: 'Pod.spec', type: 'v1.PodSpec', accepts: ['object'] },
    { path: ['metadata', 'labels'], field: 'metadata.labels', go: 'ObjectMeta.metadata.labels', type: 'map[string]string', accepts: ['object'] },
    { path: ['metadata', 'labels', 'app'], field: 'metadata.labels[app]', go: 'ObjectMeta.metadata.labels', type: 'string', accepts: ['string'] },
    { path: ['metadata', 'annotations'], field: 'metadata.annotations', go: 'ObjectMeta.metadata.annotations', type: 'map[string]string', accepts: ['object'] },
    { path: ['metadata', 'annotations', 'note'], field: 'metadata.annotations[note]', go: 'ObjectMeta.metadata.annotations', type: 'string', accepts: ['string'] },
    { path: ['spec', 'containers'], field: 'spec.containers', go: 'PodSpec.spec.containers', type: '[]v1.Container', accepts: ['array'] },
    { path: ['spec', 'containers', 0], field: 'spec.containers[0]', go: 'PodSpec.spec.containers', type: 'v1.Container', accepts: ['object'] },
    { path: ['spec', 'containers', 0, 'name'], field: 'spec.containers[0].name', go: 'Container.spec.containers.name', type: 'string', accepts: ['string'] },
    { path: ['spec', 'containers', 0, 'args', 0], field: 'spec.containers[0].args[0]', go: 'Container.spec.containers.args', type: 'string', accepts: ['string'] },
    { path: ['spec', 'containers', 0, 'ports', 0, 'containerPort'], field: 'spec.containers[0].ports[0].containerPort', go: 'ContainerPort.spec.containers.ports.containerPort', type: 'int32', accepts: ['integer'] },
    { path: ['spec', 'containers', 0, 'env', 0, 'value'], field: 'spec.containers[0].env[0].value', go: 'EnvVar.spec.containers.env.value', type: 'string', accepts: ['string'] },
    { path: ['spec', 'containers', 0, 'livenessProbe', 'httpGet', 'port'], field: 'spec.containers[0].livenessProbe.httpGet.port', go: 'HTTPGetAction.spec.containers.livenessProbe.httpGet.port', type: 'intstr.IntOrString', accepts: ['integer', 'string'], right: { string: 'http' } },
    { path: ['spec', 'containers', 0, 'resources', 'limits', 'cpu'], field: 'spec.containers[0].resources.limits[cpu]', go: 'ResourceRequirements.spec.containers.resources.limits', type: 'resource.Quantity', accepts: ['string', 'integer', 'float'], right: { string: '250m' } },
    { path: ['spec', 'nodeSelector', 'disk'], field: 'spec.nodeSelector[disk]', go: 'PodSpec.spec.nodeSelector', type: 'string', accepts: ['string'] },
    { path: ['spec', 'activeDeadlineSeconds'], field: 'spec.activeDeadlineSeconds', go: 'PodSpec.spec.activeDeadlineSeconds', type: 'int64', accepts: ['integer'] },
    { path: ['spec', 'hostNetwork'], field: 'spec.hostNetwork', go: 'PodSpec.spec.hostNetwork', type: 'bool', accepts: ['boolean'] },
  ],
};

const DEPLOYMENT: Kind = {
  name: 'Deployment',
  plural: '/apis/apps/v1/namespaces/default/deployments',
  make: deployment,
  locations: [
    { path: ['metadata'], field: 'metadata', go: 'Deployment.metadata', type: 'v1.ObjectMeta', accepts: ['object'] },
    { path: ['spec', 'replicas'], field: 'spec.replicas', go: 'DeploymentSpec.spec.replicas', type: 'int32', accepts: ['integer'] },
    { path: ['spec', 'selector', 'matchLabels', 'app'], field: 'spec.selector.matchLabels[app]', go: 'LabelSelector.spec.selector.matchLabels', type: 'string', accepts: ['string'], right: { string: 'web' } },
    { path: ['spec', 'strategy', 'rollingUpdate', 'maxSurge'], field: 'spec.strategy.rollingUpdate.maxSurge', go: 'RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge', type: 'intstr.IntOrString', accepts: ['integer', 'string'], right: { string: '25%' } },
    { path: ['spec', 'template', 'metadata', 'labels'], field: 'spec.template.metadata.labels', go: 'ObjectMeta.spec.template.metadata.labels', type: 'map[string]string', accepts: ['object'], right: { object: { app: 'web' } } },
    { path: ['spec', 'template', 'spec', 'containers', 0, 'image'], field: 'spec.template.spec.containers[0].image', go: 'Container.spec.template.spec.containers.image', type: 'string', accepts: ['string'] },
  ],
};

const SERVICE: Kind = {
  name: 'Service',
  plural: '/api/v1/namespaces/default/services',
  make: service,
  locations: [
    { path: ['spec', 'ports'], field: 'spec.ports', go: 'ServiceSpec.spec.ports', type: '[]v1.ServicePort', accepts: ['array'] },
    { path: ['spec', 'ports', 0, 'port'], field: 'spec.ports[0].port', go: 'ServicePort.spec.ports.port', type: 'int32', accepts: ['integer'] },
    { path: ['spec', 'ports', 0, 'targetPort'], field: 'spec.ports[0].targetPort', go: 'ServicePort.spec.ports.targetPort', type: 'intstr.IntOrString', accepts: ['integer', 'string'], right: { string: 'http' } },
    { path: ['spec', 'selector', 'app'], field: 'spec.selector[app]', go: 'ServiceSpec.spec.selector', type: 'string', accepts: ['string'] },
    { path: ['spec', 'type'], field: 'spec.type', go: 'ServiceSpec.spec.type', type: 'string', accepts: ['string'], right: { string: 'NodePort' } },
    { path: ['spec', 'externalIPs', 0], field: 'spec.externalIPs[0]', go: 'ServiceSpec.spec.externalIPs', type: 'string', accepts: ['string'], right: { string: '192.0.2.11' } },
  ],
};

function setAt(obj: Json, path: readonly (string | number)[], value: unknown): void {
  let cur: Json = obj;
  for (const seg of path.slice(0, -1)) cur = cur[seg];
  cur[path[path.length - 1]!] = value;
}

function getAt(obj: Json, path: readonly (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) cur = (cur as Json | undefined)?.[seg];
  return cur;
}

interface Case {
  readonly kind: Kind;
  readonly loc: Location;
  readonly type: JsonType;
  readonly right: boolean;
  readonly value: unknown;
}

const cases: Case[] = [];
for (const kind of [POD, DEPLOYMENT, SERVICE]) {
  for (const loc of kind.locations) {
    const base = getAt(kind.make('x'), loc.path);
    for (const type of Object.keys(SAMPLE) as JsonType[]) {
      const right = type === 'null' || loc.accepts.includes(type);
      const value = loc.right?.[type] ?? (right && (type === 'object' || type === 'array') ? base : SAMPLE[type]);
      cases.push({ kind, loc, type, right, value });
    }
  }
}

describe('typed decoding of create bodies', () => {
  let n = 0;
  it.each(cases.map((c) => [`${c.kind.name} ${c.loc.field} = ${c.type} (${c.right ? 'accepted' : '400'})`, c] as const))('%s', async (_title, c) => {
    const name = `t${++n}-${c.type}`;
    const obj = c.kind.make(name);
    setAt(obj, c.loc.path, structuredClone(c.value));
    const res = await call('POST', c.kind.plural, obj);
    if (c.right) {
      // Go decodes null to the zero value (then defaulted), so null is never stored; a required
      // field left empty is validation's 422.
      expect(res.status, JSON.stringify(res.json)).toBe(c.type === 'null' && res.status === 422 ? 422 : 201);
      if (c.type === 'null' && res.status === 201) expect(getAt(res.json, c.loc.path)).not.toBeNull();
      return;
    }
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    const found = c.type === 'float' && c.loc.accepts.includes('integer') ? 'number 1.5' : FOUND[c.type];
    expect(res.json).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
      message: `${c.kind.name} in version "v1" cannot be handled as a ${c.kind.name}: json: cannot unmarshal ${found} into Go struct field ${c.loc.go} of type ${c.loc.type}`,
      details: { causes: [{ reason: 'FieldValueTypeInvalid', field: c.loc.field }] },
    });
    // Nothing mistyped is stored.
    expect((await call('GET', `${c.kind.plural}/${name}`)).status).toBe(404);
  });

  it('stores a null label value as "" and drops null fields, as Go decoding does', async () => {
    const obj = pod('nulls');
    obj.metadata.labels = { app: null };
    obj.metadata.creationTimestamp = null;
    obj.spec.containers[0].args = [null, 'a'];
    obj.spec.containers[0].resources = { limits: { cpu: null } };
    const res = await call('POST', POD.plural, obj);
    expect(res.status).toBe(201);
    expect(res.json.metadata.labels).toEqual({ app: '' });
    expect(res.json.spec.containers[0].args).toEqual(['', 'a']);
    expect(res.json.spec.containers[0].resources.limits).toEqual({ cpu: '0' });
    // A null list item of a struct is the zero struct, which validation then names.
    const empty = pod('null-container');
    empty.spec.containers = [null];
    const bad = await call('POST', POD.plural, empty);
    expect(bad.status).toBe(422);
    expect(bad.json.message).toContain('spec.containers[0].name: Required value');
  });

  it('refuses integers out of their Go range', async () => {
    const obj = deployment('too-many');
    obj.spec.replicas = 2 ** 31;
    const res = await call('POST', DEPLOYMENT.plural, obj);
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32');
  });

  it('checks YAML bodies the same way', async () => {
    const yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: yaml-bad\n  labels:\n    app: 5\nspec:\n  containers:\n  - name: web\n    image: nginx\n';
    const res = await call('POST', POD.plural, yaml, 'application/yaml');
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
  });

  it('keeps kind and apiVersion from the URL when the body leaves them empty, and refuses a mismatch', async () => {
    const obj = pod('no-kind');
    delete obj.kind;
    obj.apiVersion = '';
    const res = await call('POST', POD.plural, obj);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
    const wrong = await call('POST', POD.plural, { ...pod('wrong-kind'), kind: 'Service' });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toBe('Service in version "v1" cannot be handled as a Pod: the object kind does not match the request (expected Pod)');
  });

  it('leaves unknown fields to fieldValidation (Strict refuses, Warn drops them)', async () => {
    const obj = pod('unknown');
    obj.spec.bogus = 1;
    const strict = await call('POST', `${POD.plural}?fieldValidation=Strict`, obj);
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('strict decoding error: unknown field "spec.bogus"');
    const warn = await call('POST', POD.plural, obj);
    expect(warn.status).toBe(201);
    expect(warn.json.spec.bogus).toBeUndefined();
  });
});

describe('typed decoding of updates, patches and scale', () => {
  const path = `${POD.plural}/target`;
  beforeAll(async () => {
    expect((await call('POST', POD.plural, pod('target'))).status).toBe(201);
  });

  async function expectUnchanged(): Promise<void> {
    const cur = await call('GET', path);
    expect(cur.json.metadata.labels).toEqual({ app: 'web' });
    expect(cur.json.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  }

  it('PUT', async () => {
    const cur = (await call('GET', path)).json;
    cur.metadata.labels = { app: ['web'] };
    const res = await call('PUT', path, cur);
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type string');
    await expectUnchanged();
  });

  it.each([
    ['merge patch', 'application/merge-patch+json', { metadata: { labels: { app: 5 } } }, 'metadata.labels[app]'],
    ['strategic merge patch', 'application/strategic-merge-patch+json', { spec: { containers: [{ name: 'web', ports: [{ containerPort: '80' }] }] } }, 'spec.containers[0].ports[0].containerPort'],
    ['JSON patch', 'application/json-patch+json', [{ op: 'replace', path: '/spec/containers/0/ports', value: 'all' }], 'spec.containers[0].ports'],
    ['server-side apply', 'application/apply-patch+yaml', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'target', labels: { app: true } } }, 'metadata.labels[app]'],
  ])('%s', async (_name, contentType, body, field) => {
    const res = await call('PATCH', `${path}?fieldManager=test`, body, contentType);
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    expect(res.json.details.causes[0].field).toBe(field);
    expect(res.json.message).toMatch(/^Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal /);
    await expectUnchanged();
  });

  it('the scale subresource', async () => {
    expect((await call('POST', DEPLOYMENT.plural, deployment('scaled'))).status).toBe(201);
    const scalePath = `${DEPLOYMENT.plural}/scaled/scale`;
    const put = await call('PUT', scalePath, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'scaled' }, spec: { replicas: '3' } });
    expect(put.status).toBe(400);
    expect(put.json.message).toBe('Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32');
    const patch = await call('PATCH', scalePath, { spec: { replicas: 2.5 } }, 'application/merge-patch+json');
    expect(patch.status).toBe(400);
    expect((await call('GET', `${DEPLOYMENT.plural}/scaled`)).json.spec.replicas).toBe(1);
  });
});
