// What an idle kubelet does per period, counted: the host readings shared by the agents of one
// process, the PLEG relists that a runtime's stateVersion lets skip, and the ConfigMaps/Secrets a
// pod pass reads from memory until the cache changes them.
import { describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import { parseLoadavgTasks, readHost, SharedReading } from '../../../src/agent/kubelet/host-reading.ts';
import type { HostReading } from '../../../src/agent/kubelet/host-reading.ts';
import { CachedObjectSource } from '../../../src/agent/kubelet/objects.ts';
import { Pleg } from '../../../src/agent/kubelet/pleg.ts';
import { PodRuntimeCache } from '../../../src/agent/kubelet/pod-runtime-cache.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { FakeRuntime } from '../../../src/runtime/fake-runtime.ts';
import type { ContainerRuntime } from '../../../src/runtime/types.ts';

const reading: HostReading = { memoryTotalBytes: 8 * 2 ** 30, memoryAvailableBytes: 2 ** 30, pidsInUse: 300, pidMax: 4_194_304 };

describe('host readings', () => {
  it('counts the tasks of /proc/loadavg', () => {
    expect(parseLoadavgTasks('0.52 0.61 0.70 3/1234 98765\n')).toBe(1234);
    expect(() => parseLoadavgTasks('garbage')).toThrow(/loadavg/);
  });

  it('reads this host', async () => {
    const h = await readHost();
    expect(h.memoryTotalBytes).toBeGreaterThan(h.memoryAvailableBytes);
    expect(h.pidsInUse).toBeGreaterThan(0);
    expect(h.pidMax).toBeGreaterThanOrEqual(h.pidsInUse);
  });

  it('serves one reading to every caller within its age, then reads again; a failed read is not kept', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const r = new SharedReading(async () => {
      reads++;
      if (fail) throw new Error('no /proc');
      return reading;
    }, { maxAgeMs: 1000, now: () => now });
    await Promise.all(Array.from({ length: 100 }, () => r.read()));
    expect(reads).toBe(1);
    now = 999;
    await r.read();
    expect(reads).toBe(1);
    now = 1000;
    await r.read();
    expect(reads).toBe(2);
    now = 5000;
    fail = true;
    await expect(r.read()).rejects.toThrow('no /proc');
    fail = false;
    await expect(r.read()).resolves.toEqual(reading);
    expect(reads).toBe(4);
  });
});

describe('PLEG over a runtime that tells its changes', () => {
  const uid = 'u-1';
  const labels = { 'io.kubernetes.pod.uid': uid };

  it('lists only after a change, finds it, and keeps the pod cache current meanwhile', async () => {
    const rt = new FakeRuntime();
    let lists = 0;
    const listPodSandboxes = rt.listPodSandboxes.bind(rt);
    rt.listPodSandboxes = (f) => {
      lists++;
      return listPodSandboxes(f);
    };
    let now = 0;
    const cache = new PodRuntimeCache({ now: () => now, maxRelistAgeMs: 3000 });
    const changed: string[] = [];
    const pleg = new Pleg({ runtime: rt, periodMs: 1000, log: silentLogger(), cache, onPodChanged: (u) => changed.push(u) });
    await pleg.relist();
    expect(lists).toBe(1);
    cache.set(uid, { sandboxes: [], containers: [], current: undefined, podIP: '' }, cache.token(uid));
    for (let i = 0; i < 10; i++) {
      now += 1000;
      expect([...(await pleg.relist())]).toEqual([]);
    }
    expect(lists).toBe(1);
    // Still served: every skipped period counts as a relist that found nothing.
    expect(cache.get(uid)).toBeDefined();

    const sid = await rt.runPodSandbox({ metadata: { name: 'p', namespace: 'ns', uid, attempt: 0 }, labels, annotations: {}, hostname: 'p', dns: { servers: [], searches: [], options: [] }, portMappings: [], hostNetwork: false, linux: {} } as never);
    now += 1000;
    expect([...(await pleg.relist())]).toEqual([uid]);
    expect(lists).toBe(2);
    expect(cache.get(uid)).toBeUndefined();
    expect(changed).toEqual([uid]);

    // A container's exit (test control, as a process ending) moves it too.
    rt.registry.add('img');
    await rt.pullImage('img', undefined);
    const cid = await rt.createContainer(sid, { name: 'c', image: 'img', labels, annotations: {} } as never, undefined);
    await rt.startContainer(cid);
    await pleg.relist();
    expect(lists).toBe(3);
    await pleg.relist();
    expect(lists).toBe(3);
    rt.exit(cid, 1);
    expect([...(await pleg.relist())]).toEqual([uid]);
    expect(lists).toBe(4);
  });

  it('lists every period when the runtime has no stateVersion (containerd)', async () => {
    const rt = new FakeRuntime();
    let lists = 0;
    // The same runtime without stateVersion, counting its container listings.
    const plain = new Proxy(rt, {
      get: (t, prop) => {
        if (prop === 'stateVersion') return undefined;
        if (prop === 'listContainers') {
          return async () => {
            lists++;
            return [];
          };
        }
        return Reflect.get(t, prop, t) as unknown;
      },
    }) as ContainerRuntime;
    const pleg = new Pleg({ runtime: plain, periodMs: 1000, log: silentLogger(), onPodChanged: () => undefined });
    for (let i = 0; i < 3; i++) await pleg.relist();
    expect(lists).toBe(3);
  });
});

describe('ConfigMaps and Secrets kept between pod passes', () => {
  it('reads an object from the cache once, and again after the cache changed it', async () => {
    const cache = await openAgentCache({ file: ':memory:', log: silentLogger() });
    let gets = 0;
    const get = cache.get.bind(cache);
    cache.get = (kind, ns, name) => {
      gets++;
      return get(kind, ns, name);
    };
    const objects = new CachedObjectSource(cache);
    const cm = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'ns' }, data: { 'ca.crt': v } });
    await cache.put('ConfigMap', cm('one'));
    for (let i = 0; i < 5; i++) expect((await objects.configMap('ns', 'kube-root-ca.crt'))?.data?.['ca.crt']).toBe('one');
    expect(gets).toBe(1);
    // Missing ones are kept too, until they arrive.
    expect(await objects.secret('ns', 'pull')).toBeUndefined();
    expect(await objects.secret('ns', 'pull')).toBeUndefined();
    expect(gets).toBe(2);

    const unsubscribe = cache.subscribe((c) => objects.changed(c.kind, c.namespace, c.name));
    await cache.put('ConfigMap', cm('two'));
    expect((await objects.configMap('ns', 'kube-root-ca.crt'))?.data?.['ca.crt']).toBe('two');
    await cache.put('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pull', namespace: 'ns' }, data: {} });
    expect(await objects.secret('ns', 'pull')).toBeDefined();
    expect(gets).toBe(4);
    unsubscribe();
    await cache.close();
  });
});
