/**
 * GET, LIST and WATCH serve plain objects from their stored bytes (src/server/storage/stored-json.ts).
 * The reference is the decoding path: JSON.stringify(decodeStored(r, kv)), and for lists the
 * envelope around the decoded items. Responses must equal it byte for byte, at the revision they
 * were read at, for namespaced and cluster-scoped resources, pages with continue tokens, selectors
 * and empty lists; values the splice cannot serve (converted versions, stored references with a
 * resourceVersion, other field orders) must take the decoding path and still be equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStored, encodeForStore } from '../../../src/server/storage/objects.ts';
import { servedJson, servedListJson, servedParts } from '../../../src/server/storage/stored-json.ts';
import { objectKey, ResourceRegistry } from '../../../src/server/registry/index.ts';
import type { ResourceInfo } from '../../../src/server/registry/index.ts';
import type { KeyValue } from '../../../src/store/types.ts';
import { startInProcessApi } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const registry = new ResourceRegistry();
function resource(group: string, version: string, plural: string): ResourceInfo {
  const r = registry.resolve(group, version, plural);
  if (!r) throw new Error(`no ${plural}`);
  return r;
}
const pods = resource('', 'v1', 'pods');
const configMaps = resource('', 'v1', 'configmaps');
const namespaces = resource('', 'v1', 'namespaces');
const endpoints = resource('', 'v1', 'endpoints');
const eventsV1 = resource('events.k8s.io', 'v1', 'events');
// A CRD served at v2 whose objects were stored at v1 ("None" conversion: only apiVersion changes).
const widgetsV2: ResourceInfo = { ...configMaps, group: 'example.com', version: 'v2', kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget', storage: 'example.com/widgets', custom: true };

const kvOf = (value: string | Buffer, modRevision = 42): KeyValue => ({ key: '/registry/x/y', value: Buffer.isBuffer(value) ? value : Buffer.from(value), createRevision: 7, modRevision });
const decodedJson = (r: ResourceInfo, kv: KeyValue): string => JSON.stringify(decodeStored(r, kv));

const pod = (name: string, extra: Json = {}): Json => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'a', labels: { app: 'web', tier: name.endsWith('1') ? 'one' : 'other' }, annotations: { note: 'é ✓ 😀 \u2028 "quoted" \\ back' } },
  spec: {
    containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'RATIO', value: '1.5' }], resources: { limits: { cpu: '500m' } } }],
    nodeSelector: { '80': 'integer-like key', z: 'last' },
    priority: 1e21, terminationGracePeriodSeconds: 30, ratio: 0.1, negative: -0, empty: '', nothing: null,
  },
  ...extra,
});

describe('the splice equals the decoding path', () => {
  it('serves objects written by encodeForStore from their bytes, whatever order the client sent', () => {
    const clientOrder = { spec: { containers: [] }, metadata: { name: 'p', resourceVersion: '5' }, kind: 'Pod', apiVersion: 'v1' };
    for (const obj of [pod('p1'), pod('p2', { status: { phase: 'Running' } }), clientOrder]) {
      const kv = kvOf(encodeForStore(pods, obj));
      expect(servedParts(pods, kv)).toBeDefined();
      expect(servedJson(pods, kv).toString()).toBe(decodedJson(pods, kv));
      expect(JSON.parse(servedJson(pods, kv).toString()).metadata.resourceVersion).toBe('42');
    }
  });

  it('splices into empty metadata without a trailing comma', () => {
    const kv = kvOf('{"apiVersion":"v1","kind":"ConfigMap","metadata":{},"data":{"a":"1"}}', 9);
    expect(servedParts(configMaps, kv)).toBeDefined();
    expect(servedJson(configMaps, kv).toString()).toBe('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"9"},"data":{"a":"1"}}');
    expect(servedJson(configMaps, kv).toString()).toBe(decodedJson(configMaps, kv));
  });

  it('decodes what the splice cannot serve, with the same result', () => {
    const cases: [ResourceInfo, string][] = [
      // stored before encodeForStore put apiVersion, kind and metadata first
      [configMaps, '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"old"},"data":{}}'],
      [configMaps, '{"metadata":{"name":"old"},"apiVersion":"v1","kind":"ConfigMap"}'],
      // no metadata, or not an object
      [configMaps, '{"apiVersion":"v1","kind":"ConfigMap","data":{}}'],
      [configMaps, '{"apiVersion":"v1","kind":"ConfigMap","metadata":null}'],
      // a stored resourceVersion: top-level (never written by encodeForStore) or in a reference
      [configMaps, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","resourceVersion":"3"}}'],
      [endpoints, encodeForStore(endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1', targetRef: { kind: 'Pod', name: 'p', resourceVersion: '12' } }] }] }).toString()],
      // served in another version than stored
      [widgetsV2, '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}'],
      [eventsV1, encodeForStore(eventsV1, { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'ev' }, note: 'n', regarding: { kind: 'Pod', name: 'p' } }).toString()],
    ];
    for (const [r, value] of cases) {
      const kv = kvOf(value);
      expect(servedParts(r, kv), value).toBeUndefined();
      expect(servedJson(r, kv).toString()).toBe(decodedJson(r, kv));
    }
    const w = JSON.parse(servedJson(widgetsV2, kvOf(cases[6]![1])).toString()) as Json;
    expect(w).toMatchObject({ apiVersion: 'example.com/v2', metadata: { resourceVersion: '42' } });
    const ev = JSON.parse(servedJson(eventsV1, kvOf(cases[7]![1])).toString()) as Json;
    expect(ev).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'n', regarding: { name: 'p' } });
  });

  it('builds lists byte for byte, spliced and decoded items mixed, and empty lists', () => {
    const items = [
      { kv: kvOf(encodeForStore(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }), 10) },
      { kv: kvOf('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"b"}}', 11) },
      { kv: kvOf('{"apiVersion":"v1","kind":"ConfigMap","metadata":{},"data":{}}', 12) },
    ];
    const withObj = items.map((i) => ({ ...i, obj: decodeStored(configMaps, i.kv) }));
    for (const meta of [{ resourceVersion: '12' }, { resourceVersion: '12', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' }]) {
      const expected = JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: meta, items: items.map((i) => decodeStored(configMaps, i.kv)) });
      expect(servedListJson(configMaps, meta, items).toString()).toBe(expected);
      expect(servedListJson(configMaps, meta, withObj).toString()).toBe(expected);
    }
    expect(servedListJson(configMaps, { resourceVersion: '3' }, []).toString()).toBe('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"3"},"items":[]}');
  });
});

describe('over HTTPS with the real store', () => {
  let s: InProcessApi;
  beforeAll(async () => {
    s = await startInProcessApi();
    for (const ns of ['a', 'b', 'empty']) await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 5; i++) {
      for (const ns of ['a', 'b']) {
        await post(`/api/v1/namespaces/${ns}/pods`, {
          apiVersion: 'v1', kind: 'Pod',
          metadata: { name: `p${i}`, labels: { parity: i % 2 ? 'odd' : 'even' }, annotations: { '80': 'integer-like key', note: 'é ✓ 😀 \u2028 "quoted" \\ back' } },
          spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m' } } }], nodeSelector: { disk: 'ssd' } },
        });
        await post(`/api/v1/namespaces/${ns}/configmaps`, { kind: 'ConfigMap', metadata: { name: `c${i}` }, apiVersion: 'v1', data: { i: String(i) } });
      }
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  async function post(path: string, body: unknown): Promise<void> {
    const res = await s.request('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${res.body}`);
  }

  async function get(path: string): Promise<string> {
    const res = await s.request('GET', path, { headers: { accept: 'application/json' } });
    expect(res.status, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    return res.body;
  }

  /** The decoding path's JSON of an object as of a revision. */
  async function decodedAt(r: ResourceInfo, ns: string, name: string, revision?: number): Promise<Json> {
    const kv = await s.store.get(objectKey(r, ns, name), revision ? { revision } : undefined);
    if (!kv) throw new Error(`${ns}/${name} not stored`);
    return decodeStored(r, kv);
  }

  /** The decoding path's list for the items a page names, read at the page's revision. */
  async function decodedList(r: ResourceInfo, body: string): Promise<string> {
    const page = JSON.parse(body) as Json;
    const rev = Number(page.metadata.resourceVersion);
    const items = await Promise.all(page.items.map((o: Json) => decodedAt(r, o.metadata.namespace ?? '', o.metadata.name, rev)));
    return JSON.stringify({ kind: r.listKind, apiVersion: 'v1', metadata: page.metadata, items });
  }

  it('GETs namespaced and cluster-scoped objects as the decoding path would', async () => {
    for (const ns of ['a', 'b']) {
      for (const name of ['p0', 'p3']) expect(await get(`/api/v1/namespaces/${ns}/pods/${name}`)).toBe(JSON.stringify(await decodedAt(pods, ns, name)));
      expect(await get(`/api/v1/namespaces/${ns}/configmaps/c1`)).toBe(JSON.stringify(await decodedAt(configMaps, ns, 'c1')));
    }
    expect(await get('/api/v1/namespaces/a')).toBe(JSON.stringify(await decodedAt(namespaces, '', 'a')));
    // The client sent kind before apiVersion; the store keeps Kubernetes' order, so the bytes serve it.
    expect((await s.store.get(objectKey(configMaps, 'a', 'c1')))!.value.toString()).toMatch(/^\{"apiVersion":"v1","kind":"ConfigMap","metadata":\{"name":"c1",/);
  });

  it('pages lists across namespaces at the first page\'s revision, with continue tokens', async () => {
    let path = '/api/v1/pods?limit=3';
    const names: string[] = [];
    let first: Json | undefined;
    for (let n = 0; n < 10; n++) {
      const body = await get(path);
      expect(body).toBe(await decodedList(pods, body));
      const page = JSON.parse(body) as Json;
      first ??= page;
      expect(page.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
      names.push(...page.items.map((o: Json) => `${o.metadata.namespace}/${o.metadata.name}`));
      // A write after the first page: later pages still show the objects as of that page.
      if (n === 0) await s.request('PATCH', '/api/v1/namespaces/b/pods/p4', { body: '{"metadata":{"labels":{"changed":"yes"}}}', headers: { 'content-type': 'application/merge-patch+json' } });
      if (!page.metadata.continue) break;
      path = `/api/v1/pods?limit=3&continue=${page.metadata.continue}`;
    }
    expect(names).toEqual(['a', 'b'].flatMap((ns) => [0, 1, 2, 3, 4].map((i) => `${ns}/p${i}`)));
    const now = await get('/api/v1/namespaces/b/pods/p4');
    expect(JSON.parse(now).metadata.labels.changed).toBe('yes');
  });

  it('lists one namespace, by label, cluster-scoped resources and empty namespaces the same way', async () => {
    for (const path of ['/api/v1/namespaces/a/pods', '/api/v1/namespaces/b/configmaps?limit=2', '/api/v1/namespaces/a/pods?labelSelector=parity%3Dodd', '/api/v1/namespaces/a/pods?labelSelector=parity%3Dodd&limit=1']) {
      const body = await get(path);
      expect(body).toBe(await decodedList(path.includes('configmaps') ? configMaps : pods, body));
    }
    const odd = JSON.parse(await get('/api/v1/namespaces/a/pods?labelSelector=parity%3Dodd')) as Json;
    expect(odd.items.map((o: Json) => o.metadata.name)).toEqual(['p1', 'p3']);
    const nsList = await get('/api/v1/namespaces');
    expect(nsList).toBe(await decodedList(namespaces, nsList));
    const empty = await get('/api/v1/namespaces/empty/pods');
    const rv = (JSON.parse(empty) as Json).metadata.resourceVersion as string;
    expect(empty).toBe(`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"${rv}"},"items":[]}`);
  });

  it('streams a watch\'s initial ADDED events as the decoding path would', async () => {
    const res = await s.request('GET', '/api/v1/namespaces/a/configmaps?watch=true&timeoutSeconds=1', { headers: { accept: 'application/json' } });
    const lines = res.body.split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      const ev = JSON.parse(line) as Json;
      expect(line).toBe(JSON.stringify({ type: 'ADDED', object: await decodedAt(configMaps, 'a', ev.object.metadata.name) }));
    }
  });
});
