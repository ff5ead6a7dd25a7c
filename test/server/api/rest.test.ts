/**
 * The API handler over real HTTPS with the real SQLite store: verbs, Status errors, selectors,
 * pagination, subresources and services. kubectl-level behaviour is covered in
 * test/integration/kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';

let s: InProcessApi;
beforeAll(async () => {
  s = await startInProcessApi();
});
afterAll(async () => {
  await s?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Record<string, unknown> }> {
  const res = await s.request(method, path, {
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, json: res.body ? (JSON.parse(res.body) as Json) : {}, headers: res.headers };
}

const cm = (name: string, extra: Json = {}): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { a: '1' } });

describe('discovery', () => {
  it('answers aggregated discovery with the exact media type', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const res = await call('GET', '/apis', undefined, { accept });
    expect(res.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(res.json.kind).toBe('APIGroupDiscoveryList');
    const apps = res.json.items.find((g: Json) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((r: Json) => r.resource === 'deployments');
    expect(deploy).toMatchObject({ scope: 'Namespaced', shortNames: ['deploy'], categories: ['all'] });
    expect(deploy.subresources.map((x: Json) => x.subresource)).toEqual(['status', 'scale']);
    const plain = await call('GET', '/api', undefined, { accept: 'application/json' });
    expect(plain.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
  });

  it('lists pods/eviction in /api/v1 with group policy (drain needs it)', async () => {
    const res = await call('GET', '/api/v1');
    const ev = res.json.resources.find((r: Json) => r.name === 'pods/eviction');
    expect(ev).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
  });

  it('404s unknown groups and resources with a Status', async () => {
    for (const path of ['/apis/nope.example.com/v1', '/api/v1/namespaces/default/widgets', '/apis/apps/v9/deployments']) {
      const res = await call('GET', path);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource' });
    }
  });

  it('401s requests without a credential', async () => {
    const res = await s.request('GET', '/api/v1/pods', { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'Unauthorized', code: 401 });
  });
});

describe('create, get, update', () => {
  it('creates with server-set metadata and generateName', async () => {
    const res = await call('POST', '/api/v1/namespaces/default/configmaps', cm('', { generateName: 'gen-' }));
    expect(res.status).toBe(201);
    const m = res.json.metadata;
    expect(m.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(m.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(m.resourceVersion)).toBeGreaterThan(0);
    const got = await call('GET', `/api/v1/namespaces/default/configmaps/${m.name}`);
    expect(got.json.metadata.resourceVersion).toBe(m.resourceVersion);
  });

  it('refuses a missing namespace, a duplicate, bad JSON, a kind mismatch and a 3 MiB body', async () => {
    const missing = await call('POST', '/api/v1/namespaces/nope/configmaps', cm('x'));
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('namespaces "nope" not found');
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('dup'));
    const dup = await call('POST', '/api/v1/namespaces/default/configmaps', cm('dup'));
    expect(dup.status).toBe(409);
    expect(dup.json).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "dup" already exists', details: { name: 'dup', kind: 'configmaps' } });
    const bad = await call('POST', '/api/v1/namespaces/default/configmaps', '{"kind":');
    expect(bad.status).toBe(400);
    expect(bad.json.reason).toBe('BadRequest');
    const wrongKind = await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k' } });
    expect(wrongKind.status).toBe(400);
    const big = await call('POST', '/api/v1/namespaces/default/configmaps', cm('big', {}) && JSON.stringify({ ...cm('big'), data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } }));
    expect(big.status).toBe(413);
    expect(big.json.reason).toBe('RequestEntityTooLarge');
  });

  it('answers validation failures with 422 and causes', async () => {
    const res = await call('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p-invalid' }, spec: { containers: [{ name: 'c' }] } });
    expect(res.status).toBe(422);
    expect(res.json.reason).toBe('Invalid');
    expect(res.json.details.causes.some((c: Json) => c.field === 'spec.containers[0].image')).toBe(true);
  });

  it('enforces resourceVersion preconditions and bumps generation only on spec changes', async () => {
    const dep = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gen' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'g' } }, template: { metadata: { labels: { app: 'g' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    const created = (await call('POST', '/apis/apps/v1/namespaces/default/deployments', dep)).json;
    expect(created.metadata.generation).toBe(1);
    const labelled = structuredClone(created);
    labelled.metadata.labels = { x: 'y' };
    const r1 = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/gen', labelled);
    expect(r1.status).toBe(200);
    expect(r1.json.metadata.generation).toBe(1);
    const stale = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/gen', labelled);
    expect(stale.status).toBe(409);
    expect(stale.json.message).toBe('Operation cannot be fulfilled on deployments.apps "gen": the object has been modified; please apply your changes to the latest version and try again');
    const scaled = structuredClone(r1.json);
    scaled.spec.replicas = 3;
    const r2 = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/gen', scaled);
    expect(r2.json.metadata.generation).toBe(2);
    const wrongName = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/other', r2.json);
    expect(wrongName.status).toBe(400);
  });

  it('keeps status and spec apart between the resource and its status subresource', async () => {
    const dep = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'st' },
      spec: { replicas: 1, selector: { matchLabels: { app: 's' } }, template: { metadata: { labels: { app: 's' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      status: { replicas: 9 },
    };
    const created = (await call('POST', '/apis/apps/v1/namespaces/default/deployments', dep)).json;
    expect(created.status?.replicas).toBeUndefined();
    const withStatus = { ...created, status: { replicas: 1, observedGeneration: 1 }, spec: { ...created.spec, replicas: 5 } };
    const st = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/st/status', withStatus);
    expect(st.status).toBe(200);
    expect(st.json.status.replicas).toBe(1);
    expect(st.json.spec.replicas).toBe(1);
    const main = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/st', { status: { replicas: 7 }, spec: { replicas: 2 } }, { 'content-type': 'application/merge-patch+json' });
    expect(main.json.status.replicas).toBe(1);
    expect(main.json.spec.replicas).toBe(2);
  });

  it('retries unconditional patches that race, so none is lost', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('race'));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call('PATCH', '/api/v1/namespaces/default/configmaps/race', { metadata: { labels: { [`l${i}`]: 'x' } } }, { 'content-type': 'application/merge-patch+json' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    const got = await call('GET', '/api/v1/namespaces/default/configmaps/race');
    expect(Object.keys(got.json.metadata.labels).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `l${i}`).sort());
  });

  it('does not store dry-run writes', async () => {
    const res = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'));
    expect(res.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
  });

  it('refuses unknown patch types with 415', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('p415'));
    const res = await call('PATCH', '/api/v1/namespaces/default/configmaps/p415', '{}', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.json.message).toMatch(/^the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json/);
  });
});

describe('list', () => {
  it('pages with limit/continue at one revision and filters by labels', async () => {
    await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging' } });
    for (let i = 0; i < 7; i++) await call('POST', '/api/v1/namespaces/paging/configmaps', cm(`c${i}`, { labels: { parity: i % 2 ? 'odd' : 'even' } }));
    const first = await call('GET', '/api/v1/namespaces/paging/configmaps?limit=3');
    expect(first.json.items.map((x: Json) => x.metadata.name)).toEqual(['c0', 'c1', 'c2']);
    const rv = first.json.metadata.resourceVersion;
    await call('POST', '/api/v1/namespaces/paging/configmaps', cm('c9'));
    const second = await call('GET', `/api/v1/namespaces/paging/configmaps?limit=3&continue=${first.json.metadata.continue}`);
    expect(second.json.items.map((x: Json) => x.metadata.name)).toEqual(['c3', 'c4', 'c5']);
    expect(second.json.metadata.resourceVersion).toBe(rv);
    const third = await call('GET', `/api/v1/namespaces/paging/configmaps?limit=3&continue=${second.json.metadata.continue}`);
    expect(third.json.items.map((x: Json) => x.metadata.name)).toEqual(['c6']);
    expect(third.json.metadata.continue).toBeUndefined();
    const odd = await call('GET', '/api/v1/namespaces/paging/configmaps?labelSelector=parity%3Dodd&limit=2');
    expect(odd.json.items.map((x: Json) => x.metadata.name)).toEqual(['c1', 'c3']);
    const rest = await call('GET', `/api/v1/namespaces/paging/configmaps?labelSelector=parity%3Dodd&limit=2&continue=${odd.json.metadata.continue}`);
    expect(rest.json.items.map((x: Json) => x.metadata.name)).toEqual(['c5']);
    const bad = await call('GET', '/api/v1/namespaces/paging/configmaps?labelSelector=a%20in%20b');
    expect(bad.status).toBe(400);
    const badField = await call('GET', '/api/v1/namespaces/paging/configmaps?fieldSelector=spec.nodeName%3Dx');
    expect(badField.json).toMatchObject({ code: 400, message: 'field label not supported: spec.nodeName' });
  });

  it('serves Tables with metadata rows, and full objects on includeObject=Object', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const t = await call('GET', '/api/v1/namespaces/paging/configmaps?limit=2', undefined, { accept });
    expect(t.json.kind).toBe('Table');
    expect(t.json.columnDefinitions[0].name).toBe('Name');
    expect(t.json.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'c0' } });
    const full = await call('GET', '/api/v1/namespaces/paging/configmaps?includeObject=Object', undefined, { accept });
    expect(full.json.rows[0].object.data).toEqual({ a: '1' });
  });
});

describe('delete', () => {
  it('keeps objects with finalizers until the last one is removed', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('fin', { finalizers: ['example.com/hold'] }));
    const del = await call('DELETE', '/api/v1/namespaces/default/configmaps/fin', { propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    expect(del.json.metadata.deletionTimestamp).toBeTruthy();
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(200);
    const done = await call('PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    expect(done.status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
  });

  it('checks preconditions and honours dryRun in the body', async () => {
    const c = (await call('POST', '/api/v1/namespaces/default/configmaps', cm('pre'))).json;
    const wrong = await call('DELETE', '/api/v1/namespaces/default/configmaps/pre', { preconditions: { uid: 'nope' } });
    expect(wrong.status).toBe(409);
    const dry = await call('DELETE', '/api/v1/namespaces/default/configmaps/pre', { dryRun: ['All'] });
    expect(dry.status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/pre')).status).toBe(200);
    const ok = await call('DELETE', '/api/v1/namespaces/default/configmaps/pre', { preconditions: { uid: c.metadata.uid } });
    expect(ok.status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/pre')).status).toBe(404);
  });

  // The cascade itself is the garbage collector's (test/server/controllers/gc-namespace.test.ts);
  // this API runs without controllers, so what is left is exactly what the request did.
  it('leaves dependents to the garbage collector: Background removes the owner, Foreground and Orphan add its finalizer', async () => {
    const owners: Record<string, Json> = {};
    for (const name of ['bg', 'fg', 'or']) {
      owners[name] = (await call('POST', '/api/v1/namespaces/default/configmaps', cm(`${name}-owner`))).json;
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: `${name}-owner`, uid: owners[name]!.metadata.uid, controller: true, blockOwnerDeletion: true };
      await call('POST', '/api/v1/namespaces/default/configmaps', cm(`${name}-dep`, { ownerReferences: [ref] }));
    }
    const bg = await call('DELETE', '/api/v1/namespaces/default/configmaps/bg-owner', { propagationPolicy: 'Background' });
    expect(bg.json.metadata.deletionTimestamp).toBeUndefined();
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/bg-owner')).status).toBe(404);
    for (const [name, policy, finalizer] of [['fg', 'Foreground', 'foregroundDeletion'], ['or', 'Orphan', 'orphan']] as const) {
      const del = await call('DELETE', `/api/v1/namespaces/default/configmaps/${name}-owner`, { propagationPolicy: policy });
      expect(del.status).toBe(200);
      expect(del.json.metadata).toMatchObject({ deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 0, finalizers: [finalizer] });
      expect((await call('GET', `/api/v1/namespaces/default/configmaps/${name}-owner`)).json.metadata.finalizers).toEqual([finalizer]);
    }
    for (const name of ['bg', 'fg', 'or']) {
      const dep = await call('GET', `/api/v1/namespaces/default/configmaps/${name}-dep`);
      expect(dep.json.metadata.ownerReferences[0].uid).toBe(owners[name]!.metadata.uid);
    }
    // A later delete without a policy keeps the finalizer; an explicit Background one drops it, and
    // with no finalizer left the owner goes.
    expect((await call('DELETE', '/api/v1/namespaces/default/configmaps/fg-owner')).json.metadata.finalizers).toEqual(['foregroundDeletion']);
    await call('DELETE', '/api/v1/namespaces/default/configmaps/fg-owner', { propagationPolicy: 'Background' });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/fg-owner')).status).toBe(404);
    // What the collector does when it is done orphaning: remove its finalizer, and the owner goes.
    await call('PATCH', '/api/v1/namespaces/default/configmaps/or-owner', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/or-owner')).status).toBe(404);
  });

  it('keeps a graceful pod deletion running when a finalizer goes, until the node confirms with grace 0', async () => {
    const p = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'graceful' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'registry.example/app:1' }] } };
    expect((await call('POST', '/api/v1/namespaces/default/pods', p)).status).toBe(201);
    const del = await call('DELETE', '/api/v1/namespaces/default/pods/graceful', { propagationPolicy: 'Foreground' });
    expect(del.json.metadata).toMatchObject({ deletionGracePeriodSeconds: 30, finalizers: ['foregroundDeletion'] });
    // The collector removes its finalizer (the pod has no dependents): the pod still stops gracefully.
    await call('PATCH', '/api/v1/namespaces/default/pods/graceful', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    expect((await call('GET', '/api/v1/namespaces/default/pods/graceful')).json.metadata.deletionGracePeriodSeconds).toBe(30);
    // A repeated delete may only shorten the grace period.
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/graceful', { gracePeriodSeconds: 60 })).json.metadata.deletionGracePeriodSeconds).toBe(30);
    await call('DELETE', '/api/v1/namespaces/default/pods/graceful', { gracePeriodSeconds: 0 });
    expect((await call('GET', '/api/v1/namespaces/default/pods/graceful')).status).toBe(404);
  });

  it('marks namespaces Terminating and refuses new content in them', async () => {
    await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const del = await call('DELETE', '/api/v1/namespaces/doomed');
    expect(del.json.status.phase).toBe('Terminating');
    const res = await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
    expect(res.status).toBe(403);
    expect(res.json.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    // Finalized (what the namespace controller does once it is empty), it is gone: NotFound at once.
    const current = (await call('GET', '/api/v1/namespaces/doomed')).json;
    const finalized = await call('PUT', '/api/v1/namespaces/doomed/finalize', { ...current, spec: { finalizers: [] } });
    expect(finalized.status, JSON.stringify(finalized.json)).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
    const gone = await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('later'));
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ reason: 'NotFound', message: 'namespaces "doomed" not found' });
  });

  it("mounts a pod's ServiceAccount token unless the pod or its ServiceAccount turns it off, reading a ServiceAccount written a moment before", async () => {
    const sa = (automount?: boolean) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' }, ...(automount === undefined ? {} : { automountServiceAccountToken: automount }) });
    const pod = (name: string, spec: Json = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }], ...spec } });
    const tokenMounted = async (name: string, spec?: Json) => {
      const res = await call('POST', '/api/v1/namespaces/default/pods', pod(name, spec));
      expect(res.status).toBe(201);
      const volumes = (res.json.spec.volumes ?? []).filter((v: Json) => v.name.startsWith('kube-api-access-'));
      const mounts = res.json.spec.containers[0].volumeMounts ?? [];
      expect(mounts.length).toBe(volumes.length);
      return volumes.length === 1 && mounts[0].mountPath === '/var/run/secrets/kubernetes.io/serviceaccount';
    };
    // No such ServiceAccount (yet): mounted, the kubelet waits for it.
    expect(await tokenMounted('sa-0')).toBe(true);
    // Each change is read by the next create at once, before the watch could have brought it.
    expect((await call('POST', '/api/v1/namespaces/default/serviceaccounts', sa(false))).status).toBe(201);
    expect(await tokenMounted('sa-1')).toBe(false);
    expect(await tokenMounted('sa-2', { automountServiceAccountToken: true })).toBe(true);
    expect((await call('PUT', '/api/v1/namespaces/default/serviceaccounts/robot', sa(true))).status).toBe(200);
    expect(await tokenMounted('sa-3')).toBe(true);
    expect(await tokenMounted('sa-4', { automountServiceAccountToken: false })).toBe(false);
    expect((await call('PUT', '/api/v1/namespaces/default/serviceaccounts/robot', sa(false))).status).toBe(200);
    expect(await tokenMounted('sa-5')).toBe(false);
    expect((await call('DELETE', '/api/v1/namespaces/default/serviceaccounts/robot')).status).toBe(200);
    expect(await tokenMounted('sa-6')).toBe(true);
  });
});

describe('services', () => {
  const svc = (name: string, clusterIP?: string): Json => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ...(clusterIP ? { clusterIP } : {}), ports: [{ port: 80 }] },
  });

  it('allocates, honours, refuses and releases ClusterIPs', async () => {
    const a = await call('POST', '/api/v1/namespaces/default/services', svc('a'));
    expect(a.status).toBe(201);
    expect(a.json.spec.clusterIP).toMatch(/^10\.43\.\d+\.\d+$/);
    expect(a.json.spec.clusterIPs).toEqual([a.json.spec.clusterIP]);
    const b = await call('POST', '/api/v1/namespaces/default/services', svc('b', '10.43.7.7'));
    expect(b.json.spec.clusterIP).toBe('10.43.7.7');
    const taken = await call('POST', '/api/v1/namespaces/default/services', svc('c', '10.43.7.7'));
    expect(taken.status).toBe(422);
    expect(taken.json.message).toContain('provided IP is already allocated');
    const out = await call('POST', '/api/v1/namespaces/default/services', svc('d', '192.168.1.1'));
    expect(out.status).toBe(422);
    expect(out.json.message).toContain('The range of valid IPs is 10.43.0.0/16');
    const headless = await call('POST', '/api/v1/namespaces/default/services', svc('h', 'None'));
    expect(headless.json.spec.clusterIP).toBe('None');
    await call('DELETE', '/api/v1/namespaces/default/services/b');
    const again = await call('POST', '/api/v1/namespaces/default/services', svc('c', '10.43.7.7'));
    expect(again.status).toBe(201);
    const kept = await call('PATCH', '/api/v1/namespaces/default/services/c', { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(kept.json.spec.clusterIP).toBe('10.43.7.7');
  });

  it('allocates NodePorts, keeps them across updates and releases them', async () => {
    const np = (name: string, nodePort?: number): Json => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, ...(nodePort ? { nodePort } : {}) }] },
    });
    const a = await call('POST', '/api/v1/namespaces/default/services', np('np-a'));
    expect(a.status).toBe(201);
    const port = a.json.spec.ports[0].nodePort;
    expect(port).toBeGreaterThanOrEqual(30000);
    expect(port).toBeLessThanOrEqual(32767);
    const put = structuredClone(a.json);
    delete put.spec.ports[0].nodePort;
    const updated = await call('PUT', '/api/v1/namespaces/default/services/np-a', put);
    expect(updated.json.spec.ports[0].nodePort).toBe(port);
    const clash = await call('POST', '/api/v1/namespaces/default/services', np('np-b', port));
    expect(clash.status).toBe(422);
    expect(clash.json.details.causes[0]).toMatchObject({ field: 'spec.ports[0].nodePort', message: `Invalid value: ${port}: provided port is already allocated` });
    const range = await call('POST', '/api/v1/namespaces/default/services', np('np-c', 80));
    expect(range.json.message).toContain('provided port is not in the valid range. The range of valid ports is 30000-32767');
    await call('DELETE', '/api/v1/namespaces/default/services/np-a');
    expect((await call('POST', '/api/v1/namespaces/default/services', np('np-b', port))).status).toBe(201);
  });
});

describe('pod subresources', () => {
  const pod = (name: string, labels: Json = {}): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

  it('binds a pod once', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', pod('bind-me'));
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-me' }, target: { kind: 'Node', name: 'n1' } };
    const ok = await call('POST', '/api/v1/namespaces/default/pods/bind-me/binding', binding);
    expect(ok.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/pods/bind-me')).json.spec.nodeName).toBe('n1');
    const again = await call('POST', '/api/v1/namespaces/default/pods/bind-me/binding', binding);
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('is already assigned to node "n1"');
    const logs = await call('GET', '/api/v1/namespaces/default/pods/bind-me/log');
    expect(logs.status).toBe(503);
    expect(logs.json.message).toBe('no tunnel to node n1: this server does not accept agent links');
  });

  it('evicts pods unless a disruption budget forbids it', async () => {
    await call('POST', '/api/v1/namespaces/default/pods', pod('evict-me'));
    const eviction = (name: string): Json => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name }, deleteOptions: {} });
    const ok = await call('POST', '/api/v1/namespaces/default/pods/evict-me/eviction', eviction('evict-me'));
    expect(ok.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/pods/evict-me')).status).toBe(404);
    await call('POST', '/api/v1/namespaces/default/pods', pod('guarded', { app: 'guarded' }));
    await call('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
    });
    const blocked = await call('POST', '/api/v1/namespaces/default/pods/guarded/eviction', eviction('guarded'));
    expect(blocked.status).toBe(429);
    expect(blocked.json.reason).toBe('TooManyRequests');
  });
});

describe('representations and versions', () => {
  it('serves core events through events.k8s.io/v1 with its field names', async () => {
    const ev = {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'ev1' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Started', message: 'Started container', type: 'Normal',
      source: { component: 'kubelet' }, firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:00Z', count: 1,
    };
    expect((await call('POST', '/api/v1/namespaces/default/events', ev)).status).toBe(201);
    const got = await call('GET', '/apis/events.k8s.io/v1/namespaces/default/events/ev1');
    expect(got.json).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'Event', regarding: { name: 'web' }, note: 'Started container', deprecatedSource: { component: 'kubelet' } });
    expect(got.json.involvedObject).toBeUndefined();
    const byField = await call('GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb,involvedObject.kind%3DPod');
    expect(byField.json.items.map((e: Json) => e.metadata.name)).toEqual(['ev1']);
    // Events expire an hour after their last write, like apiserver's --event-ttl.
    const kv = await s.store.get('/registry/events/default/ev1');
    expect(kv?.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    expect(kv?.expiresAt).toBeLessThan(Date.now() + 3700_000);
  });

  it('accepts events.k8s.io/v1 Events and prints them like core Events', async () => {
    const ev = {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'ev2' }, eventTime: '2026-01-01T00:00:00.000000Z',
      regarding: { kind: 'Pod', name: 'web2', namespace: 'default' }, reason: 'Pulled', note: 'pulled image', type: 'Normal',
      action: 'Pull', reportingController: 'edgeos/agent', reportingInstance: 'agent-n1',
    };
    const created = await call('POST', '/apis/events.k8s.io/v1/namespaces/default/events', ev);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'pulled image', regarding: { name: 'web2' } });
    const core = await call('GET', '/api/v1/namespaces/default/events/ev2');
    expect(core.json).toMatchObject({ apiVersion: 'v1', message: 'pulled image', involvedObject: { name: 'web2' }, reportingComponent: 'edgeos/agent' });
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io';
    const coreTable = await call('GET', '/api/v1/namespaces/default/events/ev2', undefined, { accept });
    const groupTable = await call('GET', '/apis/events.k8s.io/v1/namespaces/default/events/ev2', undefined, { accept });
    expect(groupTable.json.rows[0].cells).toEqual(coreTable.json.rows[0].cells);
  });

  it('answers PartialObjectMetadata(List) when asked', async () => {
    const accept = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';
    const res = await call('GET', '/api/v1/namespaces', undefined, { accept });
    expect(res.json.kind).toBe('PartialObjectMetadataList');
    expect(res.json.items[0]).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1' });
    expect(res.json.items[0].spec).toBeUndefined();
  });

  it('drops unknown fields with a warning, or refuses them with fieldValidation=Strict', async () => {
    const body = { ...cm('fv'), extra: 1 };
    const strict = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body);
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('strict decoding error: unknown field "extra"');
    const warn = await call('POST', '/api/v1/namespaces/default/configmaps', body);
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"extra\\""');
    expect(warn.json.extra).toBeUndefined();
  });
});

describe('reviews', () => {
  it('answers access and identity reviews without storing them', async () => {
    const ssar = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } },
    });
    expect(ssar.status).toBe(201);
    expect(ssar.json.status.allowed).toBe(true);
    const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.json.status.userInfo).toMatchObject({ username: 'test-admin', groups: ['system:masters', 'system:authenticated'] });
    const get = await call('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(get.status).toBe(405);
  });
});

describe('pod deletion', () => {
  it('deletes unbound pods at once and bound pods gracefully', async () => {
    const pod = (name: string, nodeName?: string): Json => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
    });
    await call('POST', '/api/v1/namespaces/default/pods', pod('free'));
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/free')).status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/pods/free')).status).toBe(404);
    await call('POST', '/api/v1/namespaces/default/pods', pod('bound', 'n1'));
    const graceful = await call('DELETE', '/api/v1/namespaces/default/pods/bound');
    expect(graceful.json.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(graceful.json.metadata.deletionTimestamp).toBeTruthy();
    expect((await call('GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(200);
    await call('DELETE', '/api/v1/namespaces/default/pods/bound', { gracePeriodSeconds: 0 });
    expect((await call('GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(404);
  });
});

describe('scale', () => {
  it('reads and patches replicas through autoscaling/v1 Scale', async () => {
    const dep = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sc' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'sc' } }, template: { metadata: { labels: { app: 'sc' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    await call('POST', '/apis/apps/v1/namespaces/default/deployments', dep);
    const scale = await call('GET', '/apis/apps/v1/namespaces/default/deployments/sc/scale');
    expect(scale.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=sc' } });
    const patched = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.json.spec.replicas).toBe(4);
    const put = await s.request('PUT', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { body: JSON.stringify({ ...patched.json, spec: { replicas: 2 } }) });
    expect(put.status).toBe(200);
    expect((await call('GET', '/apis/apps/v1/namespaces/default/deployments/sc')).json.spec.replicas).toBe(2);
  });
});

describe('custom resources', () => {
  it('serves, prints and removes resources of a CRD', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
        versions: [{
          name: 'v1', served: true, storage: true, subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        }],
      },
    };
    const created = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(created.status).toBe(201);
    expect(created.json.status.conditions.find((c: Json) => c.type === 'Established').status).toBe('True');
    const w = await call('POST', '/apis/example.com/v1/namespaces/default/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } });
    expect(w.status).toBe(201);
    expect(w.json.metadata.generation).toBe(1);
    const table = await call('GET', '/apis/example.com/v1/namespaces/default/widgets', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expect(table.json.columnDefinitions.map((c: Json) => c.name)).toEqual(['Name', 'Size']);
    expect(table.json.rows[0].cells).toEqual(['w1', 3]);
    const disc = await call('GET', '/apis/example.com/v1');
    expect(disc.json.resources.map((r: Json) => r.name)).toEqual(['widgets', 'widgets/status']);
    await call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    expect((await call('GET', '/apis/example.com/v1/namespaces/default/widgets')).status).toBe(404);
    expect((await s.store.list('/registry/widgets.example.com/')).kvs).toHaveLength(0);
  });

  it('prunes and validates custom resources against the CRD schema', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'boxes.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced', names: { plural: 'boxes', singular: 'box', kind: 'Box' },
        versions: [{
          name: 'v1', served: true, storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: {
            type: 'object', required: ['size'],
            properties: { size: { type: 'integer', minimum: 1, maximum: 10 }, color: { type: 'string', enum: ['red', 'blue'] }, extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          } } } },
        }],
      },
    };
    const stored = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict', crd);
    expect(stored.status).toBe(201);
    expect(stored.json.spec.versions[0].schema).toEqual(crd.spec.versions[0]?.schema);
    let n = 0;
    const box = (spec: Json): Json => ({ apiVersion: 'example.com/v1', kind: 'Box', metadata: { name: `b${++n}` }, spec });
    const bad = await call('POST', '/apis/example.com/v1/namespaces/default/boxes', box({ size: 'x', color: 'green' }));
    expect(bad.status).toBe(422);
    expect(bad.json.message).toBe('Box.example.com "b1" is invalid: [spec.size: Invalid value: "string": spec.size in body must be of type integer: "string", spec.color: Unsupported value: "green": supported values: "red", "blue"]');
    const big = await call('POST', '/apis/example.com/v1/namespaces/default/boxes', box({ size: 11 }));
    expect(big.json.details.causes[0]).toEqual({ reason: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: 11: spec.size in body should be less than or equal to 10' });
    const missing = await call('POST', '/apis/example.com/v1/namespaces/default/boxes', box({ color: 'red' }));
    expect(missing.json.details.causes[0]).toMatchObject({ reason: 'FieldValueRequired', field: 'spec.size' });
    const strict = await call('POST', '/apis/example.com/v1/namespaces/default/boxes?fieldValidation=Strict', box({ size: 2, typo: 1 }));
    expect(strict.json.message).toBe('strict decoding error: unknown field "spec.typo"');
    const pruned = await call('POST', '/apis/example.com/v1/namespaces/default/boxes', box({ size: 2, typo: 1, extra: { any: { thing: 1 } } }));
    expect(pruned.status).toBe(201);
    expect(pruned.json.spec).toEqual({ size: 2, extra: { any: { thing: 1 } } });
    expect(pruned.headers.warning).toBe('299 - "unknown field \\"spec.typo\\""');
  });
});
