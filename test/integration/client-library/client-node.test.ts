/**
 * A real client library, not kubectl: @kubernetes/client-node (the official JavaScript client)
 * loads the admin kubeconfig edgeos wrote and lists, creates, reads, watches and informs.
 */
import { ApiException, CoreV1Api, KubeConfig, Watch, makeInformer } from '@kubernetes/client-node';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';

let server: RunningServer;
let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(async () => {
  server = await startServer({ extraArgs: ['--disable-controllers'] });
  kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server?.stop();
});

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const configMap = (name: string, data: Record<string, string>): V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

describe('@kubernetes/client-node against edgeos server', () => {
  it('lists namespaces, creates and reads a ConfigMap, and gets a typed 404 and 409', async () => {
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
    expect(ns.metadata?.resourceVersion).toMatch(/^\d+$/);

    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('lib', { a: '1' }) });
    expect(created.metadata?.uid).toBeTruthy();
    const read = await core.readNamespacedConfigMap({ name: 'lib', namespace: 'default' });
    expect(read.data).toEqual({ a: '1' });

    const missing = await core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiException);
    expect((missing as ApiException<unknown>).code).toBe(404);
    const dup = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('lib', {}) }).catch((e: unknown) => e);
    expect((dup as ApiException<unknown>).code).toBe(409);
  });

  it('watches: ADDED, MODIFIED and DELETED arrive in order with the objects', async () => {
    const events: string[] = [];
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const watch = new Watch(kc);
    const req = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: V1ConfigMap) => {
        if (type !== 'BOOKMARK') events.push(`${type} ${obj.metadata?.name} ${JSON.stringify(obj.data ?? {})}`);
      },
      () => {},
    );
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('watched', { v: '1' }) });
      // client-node sends PATCH as application/json-patch+json unless told otherwise.
      await core.patchNamespacedConfigMap({ name: 'watched', namespace: 'default', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
      await until('three events', () => events.length >= 3);
      expect(events).toEqual(['ADDED watched {"v":"1"}', 'MODIFIED watched {"v":"2"}', 'DELETED watched {"v":"2"}']);
    } finally {
      req.abort();
    }
  });

  it('an informer keeps a cache in step with list + watch', async () => {
    const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen = new Set<string>();
    informer.on('add', (cm: V1ConfigMap) => seen.add(cm.metadata!.name!));
    informer.on('delete', (cm: V1ConfigMap) => seen.delete(cm.metadata!.name!));
    await informer.start();
    try {
      await until('the existing ConfigMap in the cache', () => seen.has('lib'));
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('informed', { x: 'y' }) });
      await until('the new ConfigMap in the cache', () => seen.has('informed'));
      await core.deleteNamespacedConfigMap({ name: 'lib', namespace: 'default' });
      await until('the deleted ConfigMap gone from the cache', () => !seen.has('lib'));
      expect(informer.list().map((c) => c.metadata?.name).sort()).toEqual(expect.arrayContaining(['informed']));
    } finally {
      await informer.stop();
    }
  });
});
