// Two real `edgeos server` processes on one real PostgreSQL (docs/ha.md): the second joins with the
// first's server token and refuses another; both serve the API with one CA and their own serving
// certificates; join tokens name both; writes acknowledged by either survive kill -9 of a writing
// server (the leader) and of every database connection, a watch on the survivor misses none of
// them, and the controllers resume on the survivor. The `kubernetes` Service lists every live
// server, the killed one until its registry record expires. The database away: both servers turn
// /readyz red, the leader stops its controllers; back, everything resumes by itself.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJoinToken } from '../../src/common/link/join-token.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { linesWithDuplicateKeys } from '../helpers/log-lines.ts';
import { apiWatch, createConfigMap, joinTokenOf, kill9, leaseHolder, serverTokenFile, startHaServer } from '../helpers/ha-cluster.ts';
import type { HaServer } from '../helpers/ha-cluster.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import { readCredentials } from '../helpers/start-server.ts';
import { freePort, killChild, startEdgeos } from '../server/server-command/helpers.ts';
import type { Child } from '../server/server-command/helpers.ts';

let pg: TestPostgres;
let db: string;
let a: HaServer;
let b: HaServer;
const tmp = mkdtempSync(join(tmpdir(), 'edgeos-ha-'));
beforeAll(async () => {
  pg = await startPostgres();
  db = await pg.createDatabase('ha');
  a = await startHaServer(pg.url(db));
  b = await startHaServer(pg.url(db), { tokenFile: serverTokenFile(a) });
}, 120_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await pg?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function servingCertificate(port: number, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const cert = s.getPeerX509Certificate()!;
      s.end();
      resolve(cert);
    });
    s.on('error', reject);
  });
}

/** Creates Deployment `name` through `via` and waits, reading through `reader`, until the controllers gave it its pods. */
async function deploymentGetsPods(via: HaServer, reader: HaServer, name: string, replicas: number, timeoutMs: number): Promise<void> {
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
  const created = await via.request('POST', '/apis/apps/v1/namespaces/default/deployments', { body: JSON.stringify(deployment), headers: { 'content-type': 'application/json' } });
  expect(created.status, created.body).toBe(201);
  await until(`the pods of Deployment ${name}`, async () => {
    const pods = JSON.parse((await reader.request('GET', `/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body) as { items: unknown[] };
    return pods.items.length === replicas;
  }, timeoutMs);
}

/** `default/kubernetes` as `s` serves it: its Endpoints' and its EndpointSlices' ip:port, sorted. */
async function kubernetesEndpoints(s: HaServer): Promise<{ endpoints: string[]; slices: string[] }> {
  const ep = JSON.parse((await s.request('GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body) as { subsets?: { addresses: { ip: string }[]; ports: { port: number }[] }[] };
  const slices = JSON.parse((await s.request('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes')).body) as {
    items: { endpoints: { addresses: string[] }[]; ports: { port: number }[] }[];
  };
  return {
    endpoints: (ep.subsets ?? []).flatMap((ss) => ss.addresses.flatMap((a) => ss.ports.map((p) => `${a.ip}:${p.port}`))).sort(),
    slices: slices.items.flatMap((sl) => sl.endpoints.flatMap((e) => e.addresses.flatMap((ip) => sl.ports.map((p) => `${ip}:${p.port}`)))).sort(),
  };
}

const endpointsAre = (s: HaServer, want: string[]) => async () => {
  const got = await kubernetesEndpoints(s);
  return JSON.stringify(got.endpoints) === JSON.stringify(want) && JSON.stringify(got.slices) === JSON.stringify(want);
};

describe('two servers on one PostgreSQL', () => {
  const children: Child[] = [];
  afterAll(() => children.forEach(killChild));

  it('a third server without the cluster\'s token, or with another, exits 1 naming --token', async () => {
    const refusal = async (args: string[]) => {
      const port = await freePort();
      const c = startEdgeos(['server', '--data-dir', join(tmp, `d-${port}`), '--bind-address', '127.0.0.1', '--https-listen-port', String(port), '--disable-agent', '--write-kubeconfig', join(tmp, `kc-${port}`), '--datastore-endpoint', pg.url(db), ...args]);
      children.push(c);
      expect(await c.exited, c.stderr()).toBe(1);
      return c.stderr();
    };
    expect(await refusal([])).toContain(`edgeos: --token: PostgreSQL at 127.0.0.1:${pg.port} (database ${db}, user ${pg.user}) already holds an edgeos cluster`);
    const wrong = await refusal(['--token', 'someone-elses-cluster-token']);
    expect(wrong).toContain("edgeos: --token: the server token does not open the cluster's bootstrap data");
    expect(wrong).not.toContain('someone-elses-cluster-token');
  }, 150_000); // two process starts: ~20 s each on this shared machine at load 20

  it('share one CA, each serving its own certificate; join tokens and join-info name both; the first leads; one kubeconfig works against either', async () => {
    const ca = readCredentials(a.kubeconfig).ca;
    expect(readCredentials(b.kubeconfig).ca).toBe(ca);
    const caCert = new X509Certificate(ca);
    const [certA, certB] = [await servingCertificate(a.port, ca), await servingCertificate(b.port, ca)];
    expect(certA.serialNumber).not.toBe(certB.serialNumber);
    for (const c of [certA, certB]) {
      expect(c.checkIssued(caCert) && c.verify(caCert.publicKey)).toBe(true);
      expect(c.subjectAltName).toContain('IP Address:127.0.0.1');
    }
    const both = [a, b].sort((x, y) => x.id.localeCompare(y.id)).map((s) => s.url);
    for (const s of [a, b]) {
      const info = await s.request('GET', '/edgeos/v1/join-info');
      expect(JSON.parse(info.body)).toEqual({ servers: both });
    }
    // B's default token, written after it joined, names both servers and the shared CA.
    const token = decodeJoinToken(joinTokenOf(b));
    expect(token.servers).toEqual(both);
    expect(token.caHash).toBe(decodeJoinToken(joinTokenOf(a)).caHash);
    expect(await leaseHolder(b)).toBe(a.id);
    // kubectl through any server: B's kubeconfig, credentials and CA, pointed at A.
    const viaA = await kubectl(b, ['--server', a.url, 'get', 'lease', 'edgeos-controllers', '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(viaA).toMatchObject({ code: 0, stdout: a.id });
    // The kubernetes Service lists both servers (as each kube-apiserver adds its own address),
    // though only A runs the controllers: one EndpointSlice per port, as the ports differ here.
    const both2 = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort();
    await until('the kubernetes Service to list both servers', endpointsAre(b, both2), 20_000);
  });

  it("each server's Namespace and ServiceAccount cache follows the other's writes: created on B, usable through A at once; changed or deleted on B, A acts on it when its watch delivers", async () => {
    const post = (s: HaServer, path: string, obj: unknown) => s.request('POST', path, { body: JSON.stringify(obj), headers: { 'content-type': 'application/json' } });
    const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { serviceAccountName: 'quiet', containers: [{ name: 'c', image: 'busybox' }] } });
    const tokenVolumes = (body: string) => ((JSON.parse(body) as { spec: { volumes?: { name: string }[] } }).spec.volumes ?? []).filter((v) => v.name.startsWith('kube-api-access-'));
    // Created through B and used through A in the same breath: a namespace A's watch has not
    // brought yet is read from the database.
    for (let i = 0; i < 5; i++) {
      expect((await post(b, '/api/v1/namespaces', ns(`fresh-${i}`))).status).toBe(201);
      const r = await post(a, `/api/v1/namespaces/fresh-${i}/configmaps`, cm('first'));
      expect(r.status, r.body).toBe(201);
    }
    // The same for a ServiceAccount that turns the token off: a pod through A at once has none.
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false };
    expect((await post(b, '/api/v1/namespaces/fresh-0/serviceaccounts', sa)).status).toBe(201);
    const quiet = await post(a, '/api/v1/namespaces/fresh-0/pods', pod('quiet-0'));
    expect(quiet.status, quiet.body).toBe(201);
    expect(tokenVolumes(quiet.body)).toEqual([]);
    await new Promise((r) => setTimeout(r, 500)); // A's cache now holds the namespaces and the ServiceAccount
    // Turned on through B: pods created through A get the token once A's watch brings the change.
    const patched = await b.request('PATCH', '/api/v1/namespaces/fresh-0/serviceaccounts/quiet', { body: JSON.stringify({ automountServiceAccountToken: true }), headers: { 'content-type': 'application/merge-patch+json' } });
    expect(patched.status, patched.body).toBe(200);
    let n = 0;
    await until('a pod created through A to get the token B turned on', async () => {
      const r = await post(a, '/api/v1/namespaces/fresh-0/pods', pod(`quiet-${++n}`));
      return r.status === 201 && tokenVolumes(r.body).length === 1;
    }, 10_000);
    // Deleted through B: A refuses new content as the namespace controller would have it, once its
    // watch delivers the Terminating namespace, and answers NotFound once the namespace is gone.
    // A ConfigMap with a finalizer holds the namespace in Terminating until the test lets it go
    // (otherwise the namespace controller may empty and finalize it before A's first post, and A
    // goes straight to NotFound: seen once under the whole suite's load).
    const hold = { ...cm('hold'), metadata: { name: 'hold', finalizers: ['edgeos.test/hold'] } };
    expect((await post(b, '/api/v1/namespaces/fresh-1/configmaps', hold)).status).toBe(201);
    const deleted = await b.request('DELETE', '/api/v1/namespaces/fresh-1');
    expect(deleted.status, deleted.body).toBe(200);
    const refused = await until('A to refuse content in the namespace B deleted', async () => {
      const r = await post(a, '/api/v1/namespaces/fresh-1/configmaps', cm(`late-${++n}`));
      return r.status === 403 ? (JSON.parse(r.body) as { reason: string; message: string; details: { causes: { reason: string }[] } }) : undefined;
    }, 10_000);
    expect(refused.reason).toBe('Forbidden');
    expect(refused.message).toBe(`configmaps "late-${n}" is forbidden: unable to create new content in namespace fresh-1 because it is being terminated`);
    expect(refused.details.causes[0]!.reason).toBe('NamespaceTerminating');
    const released = await b.request('PATCH', '/api/v1/namespaces/fresh-1/configmaps/hold', { body: JSON.stringify({ metadata: { finalizers: null } }), headers: { 'content-type': 'application/merge-patch+json' } });
    expect(released.status, released.body).toBe(200);
    const gone = await until('A to answer NotFound once the namespace is gone', async () => {
      const r = await post(a, '/api/v1/namespaces/fresh-1/configmaps', cm('later'));
      return r.status === 404 ? (JSON.parse(r.body) as { reason: string; message: string }) : undefined;
    }, 30_000);
    expect(gone).toMatchObject({ reason: 'NotFound', message: 'namespaces "fresh-1" not found' });
  }, 90_000);

  it('loses no acknowledged write to kill -9 of the leader and of every database connection; the watch on the survivor sees them all; the controllers resume there', async () => {
    const start = JSON.parse((await b.request('GET', '/api/v1/namespaces/default/configmaps')).body) as { metadata: { resourceVersion: string } };
    const watch = apiWatch(b, '/api/v1/namespaces/default/configmaps', start.metadata.resourceVersion);
    const acked = new Map<string, string>();
    let writing = true;
    let refused = 0;
    const writer = async (s: HaServer, name: string) => {
      for (let i = 0; writing; i++) {
        const rv = await createConfigMap(s, `w-${name}-${i}`);
        if (rv) acked.set(`w-${name}-${i}`, rv);
        else {
          refused++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = [writer(a, 'a1'), writer(a, 'a2'), writer(b, 'b1'), writer(b, 'b2')];
    await until('writes through both servers', async () => [...acked.keys()].filter((k) => k.startsWith('w-a')).length >= 20 && acked.size >= 40, 30_000);
    await kill9(a);
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    // Every connection of every server to the database, as a failover or a DBA would cut them.
    const cut = pg.psql(db, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`);
    expect(Number(cut)).toBeGreaterThan(0);
    const before = acked.size;
    await until('writes through the survivor after the cut', async () => acked.size >= before + 20, 30_000);
    writing = false;
    await Promise.all(writers);

    const seen = () => new Set(watch.events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name));
    await until('the watch on the survivor to see every acknowledged write', async () => [...acked.keys()].every((n) => seen().has(n)), 20_000);
    const revisions = watch.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    expect(new Set(revisions).size).toBe(revisions.length);
    for (const e of watch.events) if (acked.has(e.object.metadata.name!)) expect(e.object.metadata.resourceVersion).toBe(acked.get(e.object.metadata.name!));
    const list = JSON.parse((await b.request('GET', '/api/v1/namespaces/default/configmaps')).body) as { items: { metadata: { name: string } }[] };
    const listed = new Set(list.items.map((i) => i.metadata.name));
    expect([...acked.keys()].filter((n) => !listed.has(n))).toEqual([]);
    expect(refused).toBeGreaterThan(0); // the kills did interrupt writes: only the acknowledged ones count
    watch.close();

    // The leader died with its controllers: the survivor takes the Lease and acts.
    await until('the survivor to hold the Lease', async () => (await leaseHolder(b)) === b.id, 20_000);
    await deploymentGetsPods(b, b, 'after-kill', 2, 30_000);
    expect(Date.now() - killedAt).toBeLessThan(60_000);

    // In-cluster clients kept B's address throughout; A's goes when its registry record expires
    // (60 s after its last renewal: here its expiry is moved to now, and the TTL sweeper deletes
    // it as it would have).
    expect((await kubernetesEndpoints(b)).endpoints).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort());
    pg.psql(db, `UPDATE edgeos_kv SET expires_at = 0 WHERE id = (SELECT max(id) FROM edgeos_kv WHERE name = '/edgeos/cluster/servers/${a.id}')`);
    await until("the kubernetes Service to drop the killed server's address", endpointsAre(b, [`127.0.0.1:${b.port}`]), 20_000);
    expect(linesWithDuplicateKeys(b.output())).toEqual([]);
  }, 120_000);

  it('the database away: /readyz red on both servers and the leader stops its controllers; back: both green by themselves, the watches go on, the controllers act again', async () => {
    a = await startHaServer(pg.url(db), { dir: a.dir, port: a.port, tokenFile: serverTokenFile(b) });
    const acked = await createConfigMap(a, 'before-outage');
    expect(acked).toBeDefined();
    // A, back, is listed again as soon as it registers.
    await until('the kubernetes Service to list the restarted server', endpointsAre(a, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort()), 20_000);
    const watch = apiWatch(a, '/api/v1/namespaces/default/configmaps', acked!);
    // The watch is live before the database goes: a write after its start revision arrives on it.
    // (Firing the request and stopping PostgreSQL at once raced A's start of the watch on a loaded
    // machine: a watch that never started cannot go on through the outage.)
    expect(await createConfigMap(b, 'watch-open')).toBeDefined();
    await until('the watch through A to be open', async () => watch.events.some((e) => e.object.metadata.name === 'watch-open'), 20_000);
    const leader = await until('a leader', () => leaseHolder(b), 20_000);
    const leaderServer = [a, b].find((s) => s.id === leader)!;
    const from = leaderServer.output().length;
    const readyz = () => Promise.all([a, b].map(async (s) => (await s.request('GET', '/readyz')).status));

    await pg.stop();
    await until('/readyz red on both servers', async () => (await readyz()).every((c) => c === 500), 20_000);
    for (const s of [a, b]) expect((await s.request('GET', '/livez')).status).toBe(200); // waiting, not dead
    await until('the leader to stop its controllers', async () => leaderServer.output().slice(from).includes('could not renew the lease within the renew deadline'), 20_000);

    await pg.restart();
    await until('/readyz green on both servers', async () => (await readyz()).every((c) => c === 200), 30_000);
    expect(await createConfigMap(b, 'after-outage')).toBeDefined();
    await until('the watch through A, open through the outage, to see the write through B', async () => watch.events.some((e) => e.object.metadata.name === 'after-outage'), 20_000);
    await deploymentGetsPods(b, a, 'after-outage', 1, 40_000);
    watch.close();
  }, 180_000);
});
