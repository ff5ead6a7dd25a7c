// Decisions of the sync loop that need no real containers, on the in-memory FakeRuntime: image
// pull policies, the offline fallback for Always, restartPolicy Never after a dead sandbox, and
// which pods a claim or volume change wakes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import { createKubelet } from '../../../src/agent/kubelet/index.ts';
import { podUidLabel } from '../../../src/agent/kubelet/labels.ts';
import type { Kubelet } from '../../../src/agent/kubelet/index.ts';
import type { AgentCache } from '../../../src/agent/types.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { FakeRuntime } from '../../../src/runtime/fake-runtime.ts';
import { makePod, podJson, RecordingSink, until } from './helpers.ts';

let dir: string;
let rt: FakeRuntime;
let cache: AgentCache;
let sink: RecordingSink;
let kubelet: Kubelet;
const ac = new AbortController();

beforeEach(async () => {
  dir = mkdtempSync('/tmp/eos-kl-fake-');
  rt = new FakeRuntime();
  rt.images.set('sha256:local', { id: 'sha256:local', repoTags: ['example.com/app:latest'], repoDigests: [], sizeBytes: 1, pinned: false });
  cache = await openAgentCache({ file: join(dir, 'cache.db'), log: silentLogger() });
  sink = new RecordingSink();
  kubelet = createKubelet({ nodeName: 'n1', runtime: rt, cache, status: sink, log: silentLogger(), rootDir: join(dir, 'kubelet'), relistMs: 100, resyncMs: 500 });
  await kubelet.start(ac.signal);
});

afterEach(async () => {
  await kubelet.stop();
  await cache.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sync decisions (fake runtime)', () => {
  it('refuses to pull with imagePullPolicy Never', async () => {
    const pod = makePod('never-pull', 'n1', { containers: [{ name: 'c', image: 'example.com/other:1', imagePullPolicy: 'Never' }] });
    await cache.put('Pod', podJson(pod));
    const w = await until('ErrImageNeverPull', () => {
      const x = sink.latest(pod.metadata!.uid!)?.containerStatuses?.[0]?.state?.waiting;
      return x?.reason === 'ErrImageNeverPull' ? x : undefined;
    }, 10_000);
    expect(w.message).toBe('Container image "example.com/other:1" is not present with pull policy of Never');
    expect(rt.calls.some((c) => c.method === 'pullImage')).toBe(false);
  });

  it('runs the local image when an Always pull fails (offline), with a Warning', async () => {
    const pod = makePod('always', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest' }] });
    await cache.put('Pod', podJson(pod));
    await until('running', () => sink.latest(pod.metadata!.uid!)?.containerStatuses?.[0]?.state?.running, 10_000);
    expect(rt.calls.filter((c) => c.method === 'pullImage').map((c) => c.args[0])).toEqual(['example.com/app:latest']);
    const warn = sink.events.find((e) => e.reason === 'Failed');
    expect(warn?.type).toBe('Warning');
    expect(warn?.message).toMatch(/using the image present on the node$/);
  });

  it('does not recreate the sandbox of a restartPolicy Never pod whose containers ran', async () => {
    const pod = makePod('once', 'n1', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent' }] });
    const uid = pod.metadata!.uid!;
    await cache.put('Pod', podJson(pod));
    await until('running', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.running, 10_000);
    const [sid] = [...rt.sandboxes.keys()];
    await rt.stopPodSandbox(sid!);
    const s = await until('Failed', () => (sink.latest(uid)?.phase === 'Failed' ? sink.latest(uid) : undefined), 10_000);
    expect(s.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
    await new Promise((r) => setTimeout(r, 1000));
    expect(rt.calls.filter((c) => c.method === 'runPodSandbox')).toHaveLength(1);
    expect(rt.calls.filter((c) => c.method === 'createContainer')).toHaveLength(1);
  });

  it('restarts OnFailure containers only after a failure', async () => {
    const pod = makePod('onfail', 'n1', { restartPolicy: 'OnFailure', containers: [{ name: 'a', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent' }] });
    const uid = pod.metadata!.uid!;
    await cache.put('Pod', podJson(pod));
    const first = await until('running', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.running && sink.latest(uid)!.containerStatuses![0]!, 10_000);
    rt.exit(first.containerID!.replace('containerd://', ''), 1);
    const second = await until('restarted', () => {
      const c = sink.latest(uid)?.containerStatuses?.[0];
      return c?.restartCount === 1 && c.state?.running ? c : undefined;
    }, 10_000);
    rt.exit(second.containerID!.replace('containerd://', ''), 0);
    await until('Succeeded', () => sink.latest(uid)?.phase === 'Succeeded', 10_000);
    expect(rt.calls.filter((c) => c.method === 'createContainer')).toHaveLength(2);
  });

  it('holds liveness and readiness until the startup probe succeeds', async () => {
    let startupOk = false;
    let liveFails = false;
    rt.execHandler = (_id, cmd) => ({
      stdout: Buffer.alloc(0), stderr: Buffer.alloc(0),
      exitCode: cmd[0] === 'startup' ? (startupOk ? 0 : 1) : cmd[0] === 'live' && liveFails ? 1 : 0,
    });
    const pod = makePod('slow', 'n1', { containers: [{
      name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent',
      startupProbe: { exec: { command: ['startup'] }, periodSeconds: 1, failureThreshold: 30 },
      livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1, failureThreshold: 1 },
      readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
    }] });
    const uid = pod.metadata!.uid!;
    await cache.put('Pod', podJson(pod));
    await until('running', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.running, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    const before = sink.latest(uid)!.containerStatuses![0]!;
    expect(before).toMatchObject({ started: false, ready: false, restartCount: 0 });
    const execs = rt.calls.filter((c) => c.method === 'execSync').map((c) => (c.args[1] as string[])[0]);
    expect(new Set(execs)).toEqual(new Set(['startup']));
    startupOk = true;
    await until('started and ready', () => {
      const c = sink.latest(uid)?.containerStatuses?.[0];
      return c?.started === true && c.ready === true;
    }, 10_000);
    // Liveness runs now: its failure restarts the container.
    liveFails = true;
    await until('restarted by liveness', () => sink.latest(uid)?.containerStatuses?.[0]?.restartCount === 1, 10_000);
    expect(sink.events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed'))).toBe(true);
  });

  it('marks the sandbox privileged for a privileged container, also one added later as an ephemeral container', async () => {
    const priv = makePod('sysadmin', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', securityContext: { privileged: true } }] });
    await cache.put('Pod', podJson(priv));
    await until('privileged running', () => sink.latest(priv.metadata!.uid!)?.containerStatuses?.[0]?.state?.running, 10_000);
    const sandboxes = rt.calls.filter((c) => c.method === 'runPodSandbox').map((c) => c.args[0] as { privileged?: boolean });
    expect(sandboxes.map((s) => s.privileged)).toEqual([true]);

    // kubectl debug --profile=sysadmin on a running pod: its sandbox was not privileged; the
    // sandbox config sent with CreateContainer is (what containerd checks), as the kubelet does.
    const plain = makePod('plain', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent' }] });
    const uid = plain.metadata!.uid!;
    await cache.put('Pod', podJson(plain));
    await until('plain running', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.running, 10_000);
    await cache.put('Pod', podJson({ ...plain, spec: { ...plain.spec!, ephemeralContainers: [{ name: 'dbg', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', securityContext: { privileged: true } }] } }));
    await until('debug container running', () => sink.latest(uid)?.ephemeralContainerStatuses?.[0]?.state?.running, 10_000);
  });

  it('restricted: no_new_privs, seccomp RuntimeDefault, dropped capabilities, and runAsNonRoot checked against the image user', async () => {
    const restricted = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
    const root = makePod('as-root', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', securityContext: restricted }] });
    await cache.put('Pod', podJson(root));
    const w = await until('config error', () => sink.latest(root.metadata!.uid!)?.containerStatuses?.[0]?.state?.waiting, 10_000);
    expect(w).toEqual({ reason: 'CreateContainerConfigError', message: `container has runAsNonRoot and image will run as root (pod: "as-root_default(${root.metadata!.uid})", container: c)` });

    const user = makePod('as-nobody', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', securityContext: { ...restricted, runAsUser: 65534 } }] });
    await cache.put('Pod', podJson(user));
    await until('running', () => sink.latest(user.metadata!.uid!)?.containerStatuses?.[0]?.state?.running, 10_000);
    const created = rt.calls.filter((c) => c.method === 'createContainer').map((c) => c.args[1] as { security: Record<string, unknown> });
    expect(created.at(-1)?.security).toMatchObject({ runAsUser: 65534, noNewPrivs: true, seccomp: { type: 'RuntimeDefault' }, dropCapabilities: ['ALL'], privileged: false });

    const zero = makePod('uid-zero', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', securityContext: { runAsNonRoot: true, runAsUser: 0 } }] });
    await cache.put('Pod', podJson(zero));
    const z = await until('uid 0 refused', () => sink.latest(zero.metadata!.uid!)?.containerStatuses?.[0]?.state?.waiting, 10_000);
    expect(z.message).toBe(`container's runAsUser breaks non-root policy (pod: "uid-zero_default(${zero.metadata!.uid})", container: c)`);
  });

  it('is not woken by a change of the pod\'s status alone (its own report coming back through the server)', async () => {
    const pod = makePod('echo', 'n1', { containers: [{ name: 'c', image: 'example.com/missing:1', imagePullPolicy: 'Never' }] });
    const uid = pod.metadata!.uid!;
    await cache.put('Pod', podJson(pod));
    await until('ErrImageNeverPull', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.waiting, 10_000);
    let passes = 0;
    const imageStatus = rt.imageStatus.bind(rt);
    rt.imageStatus = (ref) => { passes++; return imageStatus(ref); };
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      // Our own conditions move, and another component's condition only has its probe time refreshed.
      const conditions = [{ type: 'Ready', status: i % 2 ? 'True' : 'False' }, { type: 'example.com/gate', status: 'True', lastProbeTime: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` }];
      await cache.put('Pod', podJson({ ...pod, metadata: { ...pod.metadata, resourceVersion: String(100 + i) }, status: { phase: 'Pending', message: `report ${i}`, conditions } }));
      await new Promise((r) => setTimeout(r, 20));
    }
    // Only resync passes (every 500 ms here) ran meanwhile, not one per status write.
    expect(passes).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 500) + 1);
    // A spec change still wakes it at once.
    await cache.put('Pod', podJson({ ...pod, spec: { ...pod.spec!, containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent' }] } }));
    await until('running after the image change', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.running, 10_000);
  });

  it('resyncs an unchanged pod from the PLEG\'s cache (no CRI calls of its own), and still sees its container die', async () => {
    let passes = 0;
    await kubelet.stop();
    kubelet = createKubelet({
      nodeName: 'n1', runtime: rt, cache, status: sink, log: silentLogger(), rootDir: join(dir, 'kubelet'), relistMs: 100, resyncMs: 500,
      observe: { plegRelist: () => undefined, podSync: () => { passes++; } },
    });
    await kubelet.start(ac.signal);
    const pod = makePod('steady', 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent' }] });
    const uid = pod.metadata!.uid!;
    await cache.put('Pod', podJson(pod));
    const first = await until('running', () => sink.latest(uid)?.containerStatuses?.[0]?.state?.running && sink.latest(uid)!.containerStatuses![0]!, 10_000);
    // The calls a pass makes to read one pod: its sandboxes and containers by label, each container's status.
    let ownCalls = 0;
    const listSandboxes = rt.listPodSandboxes.bind(rt);
    rt.listPodSandboxes = (filter) => {
      if (filter?.labelSelector?.[podUidLabel]) ownCalls++;
      return listSandboxes(filter);
    };
    const status = rt.containerStatus.bind(rt);
    rt.containerStatus = (id) => {
      ownCalls++;
      return status(id);
    };
    // Once the start has settled, resyncs (every 500–750 ms here) read the pod from the cache:
    // a window with passes and no call of their own comes (without the cache, every pass calls).
    await until('resyncs without CRI calls of their own', async () => {
      const [p0, c0] = [passes, ownCalls];
      await new Promise((r) => setTimeout(r, 1600));
      return passes - p0 >= 2 && ownCalls === c0;
    }, 20_000);
    const before = ownCalls;
    // The container dies: the relist notices, the worker reads the runtime again and restarts it.
    rt.exit(first.containerID!.replace('containerd://', ''), 1);
    await until('restarted', () => sink.latest(uid)?.containerStatuses?.[0]?.restartCount === 1, 10_000);
    expect(ownCalls).toBeGreaterThan(before);
  });

  it('renews a projected token when it is due, not at the next resync (60 s here)', async () => {
    await kubelet.stop();
    const asked: number[] = [];
    kubelet = createKubelet({
      nodeName: 'n1', runtime: rt, cache, status: sink, log: silentLogger(), rootDir: join(dir, 'kubelet'), relistMs: 60_000, resyncMs: 60_000,
      // Each token is due for renewal 700 ms after it was handed out.
      tokenSource: async () => {
        asked.push(Date.now());
        return { token: `token-${asked.length}`, refreshAt: Date.now() + 700 };
      },
    });
    await kubelet.start(ac.signal);
    const pod = makePod('tok', 'n1', {
      volumes: [{ name: 'api', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 600 } }] } }],
      containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', volumeMounts: [{ name: 'api', mountPath: '/var/run/secrets/tokens' }] }],
    });
    await cache.put('Pod', podJson(pod));
    await until('running', () => sink.latest(pod.metadata!.uid!)?.containerStatuses?.[0]?.state?.running, 10_000);
    const file = join(dir, 'kubelet', 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~projected', 'api', 'token');
    const n = asked.length;
    // Two more renewals within ~3 s: the pass that renews is due at the token's time (≥ 1 s apart).
    await until('renewed twice more', () => asked.length >= n + 2, 5_000);
    await until('the new token in the volume', () => readFileSync(file, 'utf8') === `token-${asked.length}`, 2_000);
  });

  it('wakes only the pods that mount a claim when the claim or its volume changes', async () => {
    // Periodic resyncs and relists out of the way: every pass in the window comes from a kick.
    await kubelet.stop();
    kubelet = createKubelet({ nodeName: 'n1', runtime: rt, cache, status: sink, log: silentLogger(), rootDir: join(dir, 'kubelet'), relistMs: 60_000, resyncMs: 60_000 });
    await kubelet.start(ac.signal);
    const claim = (name: string, extra: object = {}) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { volumeName: `pv-${name}` }, ...extra });
    const volume = (name: string, extra: object = {}) => {
      mkdirSync(join(dir, name), { recursive: true });
      return { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `pv-${name}` }, spec: { local: { path: join(dir, name) }, claimRef: { namespace: 'default', name, uid: `uid-${name}` } }, ...extra };
    };
    const withClaim = (name: string) => makePod(name, 'n1', {
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }],
      containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    });
    const a = withClaim('a');
    const b = withClaim('b');
    // Each pass of a pod's worker reads its claim (the runtime it may take from the PLEG's cache).
    const read = new Map<string, number>();
    const get = cache.get.bind(cache);
    cache.get = async (kind, ns, name) => {
      if (kind === 'PersistentVolumeClaim') read.set(name, (read.get(name) ?? 0) + 1);
      return get(kind, ns, name);
    };
    const passes = (p: typeof a) => read.get(p.metadata!.name!) ?? 0;
    await cache.put('PersistentVolumeClaim', claim('a'));
    await cache.put('PersistentVolume', volume('a'));
    await cache.put('Pod', podJson(a));
    await cache.put('Pod', podJson(b));
    await until('a running', () => sink.latest(a.metadata!.uid!)?.containerStatuses?.[0]?.state?.running, 10_000);
    await until('b waiting for its claim', () => sink.events.some((e) => e.involvedObject.uid === b.metadata!.uid && e.reason === 'FailedMount'), 10_000);
    // a looks again 1 s after starting its container (a started container may exit at once):
    // wait until its passes stop, so only a kick can add one.
    for (let seen = passes(a), quietSince = Date.now(); Date.now() - quietSince < 1500;) {
      await new Promise((r) => setTimeout(r, 100));
      if (passes(a) !== seen) [seen, quietSince] = [passes(a), Date.now()];
    }

    const aBefore = passes(a);
    // b's claim and volume arrive (and change, as their statuses are written): b starts, a sleeps.
    await cache.put('PersistentVolumeClaim', claim('b'));
    await cache.put('PersistentVolume', volume('b'));
    await until('b running', () => sink.latest(b.metadata!.uid!)?.containerStatuses?.[0]?.state?.running, 5_000);
    const bRunning = passes(b);
    await cache.put('PersistentVolumeClaim', claim('b', { status: { phase: 'Bound' } }));
    await cache.put('PersistentVolume', volume('b', { status: { phase: 'Bound' } }));
    await until('b looked again', () => passes(b) > bRunning, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(passes(a)).toBe(aBefore);

    // A change of a's own volume wakes a.
    await cache.put('PersistentVolume', volume('a', { status: { phase: 'Bound' } }));
    await until('a looked again', () => passes(a) > aBefore, 5_000);
  });
});
