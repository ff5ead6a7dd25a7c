// Pure parts of the kubelet: back-off arithmetic, quantities, $(VAR) expansion, env resolution,
// DNS policy, QoS and cgroup values, probe-free status computation.
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { Backoff, crashLoopBackoff } from '../../../src/agent/kubelet/backoff.ts';
import { podDns, parseResolvConf } from '../../../src/agent/kubelet/dns.ts';
import { resolveEnv, expandCommand } from '../../../src/agent/kubelet/env.ts';
import { ContainerConfigError } from '../../../src/agent/kubelet/errors.ts';
import { expand } from '../../../src/agent/kubelet/expand.ts';
import { containerHash } from '../../../src/agent/kubelet/hash.ts';
import { pullPolicy, registryHost } from '../../../src/agent/kubelet/images.ts';
import { defaultRouteInterface, goArch, osImage } from '../../../src/agent/kubelet/node-info.ts';
import { computeNodeStatus } from '../../../src/agent/kubelet/node-status.ts';
import type { ObjectSource } from '../../../src/agent/kubelet/objects.ts';
import { PodRuntimeCache } from '../../../src/agent/kubelet/pod-runtime-cache.ts';
import { goDuration } from '../../../src/agent/kubelet/pod-state.ts';
import { computePodStatus } from '../../../src/agent/kubelet/pod-status.ts';
import { bytes, milliCpu } from '../../../src/agent/kubelet/quantity.ts';
import { containerResources, qosClass } from '../../../src/agent/kubelet/resources.ts';
import type { RuntimeContainer, RuntimePod } from '../../../src/agent/kubelet/runtime-pod.ts';
import { EventRecorder } from '../../../src/agent/kubelet/events.ts';
import { serviceEnvironment } from '../../../src/agent/kubelet/service-env.ts';
import { makePod, RecordingSink } from './helpers.ts';

describe('PodRuntimeCache', () => {
  const rt = (podIP: string): RuntimePod => ({ sandboxes: [], containers: [], current: undefined, podIP });

  it('serves what a pass stored until the PLEG invalidates the pod', () => {
    let now = 0;
    const c = new PodRuntimeCache({ now: () => now, maxRelistAgeMs: 3000 });
    c.relisted(0);
    c.set('u', rt('10.0.0.1'), c.token('u'));
    expect(c.get('u')?.podIP).toBe('10.0.0.1');
    c.invalidate('u');
    expect(c.get('u')).toBeUndefined();
    now = 500;
    c.set('u', rt('10.0.0.2'), c.token('u'));
    expect(c.get('u')?.podIP).toBe('10.0.0.2');
    c.forget('u');
    expect(c.size).toBe(0);
  });

  it('drops what a pass saw when the pod was invalidated during that pass', () => {
    const c = new PodRuntimeCache({ now: () => 0, maxRelistAgeMs: 3000 });
    c.relisted(0);
    const token = c.token('u');
    // The PLEG reports a change while the pass is reading the runtime: its view may predate it.
    c.invalidate('u');
    c.set('u', rt('10.0.0.1'), token);
    expect(c.get('u')).toBeUndefined();
  });

  it('serves nothing while relists fail (a PLEG that cannot list cannot see a change)', () => {
    let now = 0;
    const c = new PodRuntimeCache({ now: () => now, maxRelistAgeMs: 3000 });
    expect((c.set('u', rt('10.0.0.1'), c.token('u')), c.get('u'))).toBeUndefined();
    c.relisted(now);
    expect(c.get('u')?.podIP).toBe('10.0.0.1');
    now = 3001;
    expect(c.get('u')).toBeUndefined();
    c.relisted(3000);
    expect(c.get('u')?.podIP).toBe('10.0.0.1');
  });
});

describe('service environment variables', () => {
  const svc = (namespace: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[]) => ({ metadata: { namespace, name }, spec: { clusterIP, ports } });
  const services = [
    svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }]),
    svc('shop', 'web-front', '10.43.0.20', [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
    svc('shop', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'db', '10.43.0.30', [{ port: 5432 }]),
  ];

  it('gives the kubernetes Service always, and the namespace\'s Services with enableServiceLinks, as the kubelet names them', () => {
    const env = Object.fromEntries(serviceEnvironment(services, 'shop', true));
    expect(env).toEqual({
      KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.43.0.1:443', KUBERNETES_PORT_443_TCP: 'tcp://10.43.0.1:443', KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443', KUBERNETES_PORT_443_TCP_ADDR: '10.43.0.1',
      WEB_FRONT_SERVICE_HOST: '10.43.0.20', WEB_FRONT_SERVICE_PORT: '80', WEB_FRONT_SERVICE_PORT_HTTP: '80', WEB_FRONT_SERVICE_PORT_DNS: '53',
      WEB_FRONT_PORT: 'tcp://10.43.0.20:80', WEB_FRONT_PORT_80_TCP: 'tcp://10.43.0.20:80', WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
      WEB_FRONT_PORT_80_TCP_PORT: '80', WEB_FRONT_PORT_80_TCP_ADDR: '10.43.0.20', WEB_FRONT_PORT_53_UDP: 'udp://10.43.0.20:53',
      WEB_FRONT_PORT_53_UDP_PROTO: 'udp', WEB_FRONT_PORT_53_UDP_PORT: '53', WEB_FRONT_PORT_53_UDP_ADDR: '10.43.0.20',
    });
    expect([...serviceEnvironment(services, 'shop', false).keys()].every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
  });

  it('lets the container\'s own env win and expand $(VAR) against them', async () => {
    const pod = makePod('p', 'n', { containers: [{ name: 'c', image: 'x', env: [{ name: 'KUBERNETES_SERVICE_PORT', value: '6443' }, { name: 'URL', value: 'http://$(WEB_FRONT_SERVICE_HOST)/' }] }] });
    const none: ObjectSource = { configMap: async () => undefined, secret: async () => undefined };
    const { env } = await resolveEnv(pod, pod.spec!.containers[0]!, none, { podIP: '', hostIP: '', allocatable: { cpuMilli: 0, memoryBytes: 0, ephemeralBytes: 0 } }, serviceEnvironment(services, 'shop', true));
    expect(env.KUBERNETES_SERVICE_PORT).toBe('6443');
    expect(env.URL).toBe('http://10.43.0.20/');
    expect(env.KUBERNETES_SERVICE_HOST).toBe('10.43.0.1');
  });
});

describe('crash-loop back-off', () => {
  it('restarts at once, then waits 10 s doubling to 5 min, and starts over after 10 quiet minutes', () => {
    let now = 1_000_000;
    const b = new Backoff(crashLoopBackoff, () => now);
    const k = 'uid/c';
    expect(b.inBackoffSince(k, now)).toBe(false);
    b.next(k);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const failed = now;
      expect(b.inBackoffSince(k, failed)).toBe(true);
      now = b.retryAt(k, failed);
      expect(b.inBackoffSince(k, failed)).toBe(false);
      delays.push(b.delay(k) / 1000);
      b.next(k);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300]);
    now += 10 * 60_000 + 1;
    expect(b.inBackoffSince(k, now - 1)).toBe(false);
    b.next(k);
    expect(b.delay(k)).toBe(10_000);
    expect(goDuration(10_000)).toBe('10s');
    expect(goDuration(160_000)).toBe('2m40s');
    expect(goDuration(300_000)).toBe('5m0s');
  });
});

describe('quantities and resources', () => {
  it('parses Kubernetes quantities', () => {
    expect(milliCpu('250m')).toBe(250);
    expect(milliCpu('1.5')).toBe(1500);
    expect(milliCpu(2)).toBe(2000);
    expect(bytes('64Mi')).toBe(64 * 2 ** 20);
    expect(bytes('1G')).toBe(1e9);
    expect(bytes('1e3')).toBe(1000);
    expect(() => bytes('12 apples')).toThrow(/invalid quantity/);
  });

  it('maps requests and limits to cgroup values and QoS', () => {
    const guaranteed = makePod('g', 'n', { containers: [{ name: 'a', resources: { limits: { cpu: '500m', memory: '64Mi' } } }] });
    expect(qosClass(guaranteed)).toBe('Guaranteed');
    expect(containerResources(guaranteed, guaranteed.spec!.containers[0]!, 8 * 2 ** 30)).toEqual({
      cpuShares: 512, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitBytes: 64 * 2 ** 20, oomScoreAdj: -997,
    });
    const burst = makePod('b', 'n', { containers: [{ name: 'a', resources: { requests: { cpu: '100m', memory: '1Gi' } } }] });
    expect(qosClass(burst)).toBe('Burstable');
    expect(containerResources(burst, burst.spec!.containers[0]!, 4 * 2 ** 30)).toEqual({ cpuShares: 102, oomScoreAdj: 750 });
    const best = makePod('e', 'n', { containers: [{ name: 'a' }] });
    expect(qosClass(best)).toBe('BestEffort');
    expect(containerResources(best, best.spec!.containers[0]!, 1)).toEqual({ cpuShares: 2, oomScoreAdj: 1000 });
  });
});

describe('environment', () => {
  const objects: ObjectSource = {
    configMap: async (_ns, name) => (name === 'cm' ? { metadata: { name }, data: { A: 'from-cm', 'bad key': 'x' } } as ConfigMap : undefined),
    secret: async (_ns, name) => (name === 'sec' ? { metadata: { name }, data: { PASS: Buffer.from('s3cret').toString('base64') } } as Secret : undefined),
  };
  const ctx = { podIP: '10.0.0.5', hostIP: '192.168.1.2', allocatable: { cpuMilli: 2000, memoryBytes: 2 ** 30, ephemeralBytes: 0 } };

  it('expands $(VAR) like Kubernetes', () => {
    const env: Record<string, string> = { A: 'x', B: 'y' };
    const look = (n: string): string | undefined => env[n];
    expect(expand('$(A)-$(B)', look)).toBe('x-y');
    expect(expand('$(C)', look)).toBe('$(C)');
    expect(expand('$$(A)', look)).toBe('$(A)');
    expect(expand('cost $5 $(A', look)).toBe('cost $5 $(A');
  });

  it('resolves values, refs, field refs, resource refs and envFrom with prefix', async () => {
    const pod = makePod('web', 'node-1', {
      serviceAccountName: 'sa',
      containers: [{
        name: 'c',
        resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } },
        envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }, { secretRef: { name: 'nope', optional: true } }],
        env: [
          { name: 'PLAIN', value: 'v-$(CM_A)' },
          { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cm', key: 'A' } } },
          { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'sec', key: 'PASS' } } },
          { name: 'OPT', valueFrom: { secretKeyRef: { name: 'sec', key: 'missing', optional: true } } },
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'CPU_LIM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        ],
        command: ['echo', '$(NAME)'], args: ['$(NODE)', '$$(NODE)'],
      }],
    });
    const r = await resolveEnv(pod, pod.spec!.containers[0]!, objects, ctx);
    expect(r.env).toEqual({
      CM_A: 'from-cm', PLAIN: 'v-from-cm', FROM_CM: 'from-cm', FROM_SECRET: 's3cret', NAME: 'web', NS: 'default', APP: 'web',
      NODE: 'node-1', IP: '10.0.0.5', HOST: '192.168.1.2', MEM: '128', CPU_REQ: '250', CPU_LIM: '2',
    });
    expect(r.invalidKeys).toEqual(['CM_bad key']);
    expect(expandCommand(pod.spec!.containers[0]!, r.env)).toEqual({ command: ['echo', 'web'], args: ['node-1', '$(NODE)'] });
  });

  it('fails with CreateContainerConfigError messages for missing non-optional refs', async () => {
    const pod = makePod('p', 'n', {});
    const run = (env: NonNullable<Pod['spec']>['containers'][0]['env']): Promise<unknown> => resolveEnv(pod, { name: 'c', env }, objects, ctx);
    await expect(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }])).rejects.toThrow(new ContainerConfigError('configmap "gone" not found'));
    await expect(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }])).rejects.toThrow('couldn\'t find key k in ConfigMap default/cm');
    await expect(run([{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }])).rejects.toThrow('secret "gone" not found');
  });
});

describe('DNS', () => {
  const host = parseResolvConf('# c\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch lan example.com\noptions edns0\n');
  it('parses resolv.conf', () => {
    expect(host).toEqual({ servers: ['1.1.1.1', '8.8.8.8'], searches: ['lan', 'example.com'], options: ['edns0'] });
  });
  it('applies dnsPolicy and dnsConfig', () => {
    const p = (spec: Partial<NonNullable<Pod['spec']>>): Pod => makePod('p', 'n', spec, { namespace: 'ns1' });
    expect(podDns(p({}), host, { servers: ['10.43.0.10'], domain: 'cluster.local' })).toEqual({
      config: { servers: ['10.43.0.10'], searches: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lan', 'example.com'], options: ['ndots:5'] },
      missingClusterDns: false,
    });
    expect(podDns(p({}), host, { servers: [], domain: 'cluster.local' })).toEqual({ config: host, missingClusterDns: true });
    expect(podDns(p({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], options: [{ name: 'ndots', value: '2' }] } }), host, { servers: [], domain: 'c' }).config)
      .toEqual({ servers: ['9.9.9.9'], searches: [], options: ['ndots:2'] });
  });
});

describe('images and node facts', () => {
  it('defaults pull policy and finds the registry host', () => {
    expect(pullPolicy({ name: 'a', image: 'busybox' })).toBe('Always');
    expect(pullPolicy({ name: 'a', image: 'busybox:latest' })).toBe('Always');
    expect(pullPolicy({ name: 'a', image: 'localhost:5000/busybox:1' })).toBe('IfNotPresent');
    expect(pullPolicy({ name: 'a', image: 'busybox:1', imagePullPolicy: 'Never' })).toBe('Never');
    expect(registryHost('busybox')).toBe('docker.io');
    expect(registryHost('127.0.0.1:5000/x/y:1')).toBe('127.0.0.1:5000');
    expect(registryHost('edgeos.test/busybox:1')).toBe('edgeos.test');
  });

  it('reads the default route, os-release and architecture', () => {
    const route = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n'
      + 'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\neth1\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\n';
    expect(defaultRouteInterface(route)).toBe('eth1');
    expect(osImage('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
  });

  it('computes node conditions, capacity and allocatable', () => {
    const machine = {
      hostname: 'h', internalIP: '192.168.1.5', cpuCores: 2, memoryBytes: 4 * 2 ** 30, machineID: 'm', systemUUID: 's', bootID: 'b',
      kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', architecture: 'amd64',
    };
    const sample = {
      machine, memoryAvailableBytes: 2 ** 30, fsCapacityBytes: 100 * 2 ** 30, fsAvailableBytes: 50 * 2 ** 30, pidsInUse: 100, pidMax: 32768,
      runtime: { conditions: [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, { type: 'NetworkReady', status: true, reason: '', message: '' }] },
      runtimeError: undefined, runtimeVersion: '1.6.20',
      images: [{ id: 'sha256:a', repoTags: ['a:1'], repoDigests: [], sizeBytes: 10, pinned: false }, { id: 'sha256:b', repoTags: ['b:1'], repoDigests: ['b@sha256:x'], sizeBytes: 20, pinned: false }],
    };
    const s = computeNodeStatus(sample, undefined, Date.parse('2026-01-01T00:00:00Z'));
    expect(s.capacity).toEqual({ cpu: '2', memory: '4194304Ki', pods: '110', 'ephemeral-storage': '104857600Ki' });
    expect(s.allocatable?.memory).toBe('4091904Ki');
    expect(s.nodeInfo?.containerRuntimeVersion).toBe('containerd://1.6.20');
    expect(s.nodeInfo?.kubeletVersion).toBe('v1.32.0-edgeos');
    expect(s.addresses).toEqual([{ type: 'InternalIP', address: '192.168.1.5' }, { type: 'Hostname', address: 'h' }]);
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
    expect(s.images?.map((i) => i.names)).toEqual([['b@sha256:x', 'b:1'], ['a:1']]);
    const later = computeNodeStatus({ ...sample, runtime: undefined, runtimeError: 'socket gone', memoryAvailableBytes: 2 ** 20 }, s, Date.parse('2026-01-01T00:01:00Z'));
    const ready = later.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady', lastTransitionTime: '2026-01-01T00:01:00Z' });
    expect(ready?.message).toContain('socket gone');
    expect(later.conditions?.find((c) => c.type === 'MemoryPressure')?.status).toBe('True');
    expect(later.conditions?.find((c) => c.type === 'DiskPressure')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
});

describe('pod status', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const sandbox = { id: 's1', metadata: { name: 'p', namespace: 'default', uid: 'u', attempt: 0 }, state: 'ready' as const, createdAtMs: t0, labels: {}, annotations: {} };
  const rc = (name: string, attempt: number, state: RuntimeContainer['state'], exitCode = 0, extra: Partial<RuntimeContainer> = {}): RuntimeContainer => ({
    id: `${name}-${attempt}`, podSandboxId: 's1', name, attempt, image: 'img', imageRef: 'sha256:img', state, createdAtMs: t0 + attempt,
    startedAtMs: t0 + 1000 * attempt, finishedAtMs: state === 'exited' ? t0 + 1000 * attempt + 500 : 0, exitCode,
    reason: state === 'exited' ? (exitCode ? 'Error' : 'Completed') : '', message: '', labels: {}, annotations: {}, logPath: '', ...extra,
  });
  const rtPod = (containers: RuntimeContainer[]): RuntimePod => ({ sandboxes: [sandbox], containers, current: sandbox, podIP: '10.1.0.9' });
  const base = (pod: Pod, containers: RuntimeContainer[], waiting = new Map<string, { reason: string; message: string }>(), ready = true) => computePodStatus({
    pod, rt: rtPod(containers), hostIP: '192.168.1.5', waiting, probe: () => ({ ready, started: true }), previous: undefined, startTimeMs: t0, now: t0 + 5000,
  });

  it('is Pending with ContainerCreating, then Running and Ready', () => {
    const pod = makePod('p', 'n', { containers: [{ name: 'b', image: 'img' }, { name: 'a', image: 'img' }] });
    const pending = base(pod, []);
    expect(pending.phase).toBe('Pending');
    expect(pending.containerStatuses?.map((c) => [c.name, c.state?.waiting?.reason])).toEqual([['a', 'ContainerCreating'], ['b', 'ContainerCreating']]);
    const running = base(pod, [rc('a', 0, 'running'), rc('b', 0, 'running')]);
    expect(running.phase).toBe('Running');
    expect(running.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True',
    ]);
    expect(running).toMatchObject({ podIP: '10.1.0.9', podIPs: [{ ip: '10.1.0.9' }], hostIP: '192.168.1.5', startTime: '2026-01-01T00:00:00Z', qosClass: 'BestEffort' });
    expect(running.containerStatuses?.[0]).toMatchObject({ name: 'a', ready: true, started: true, restartCount: 0, containerID: 'containerd://a-0', imageID: 'sha256:img' });
    const notReady = base(pod, [rc('a', 0, 'running'), rc('b', 0, 'running')], new Map(), false);
    expect(notReady.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a b]' });
  });

  it('shows CrashLoopBackOff with the last termination and keeps Running under restartPolicy Always', () => {
    const pod = makePod('p', 'n', { containers: [{ name: 'a', image: 'img' }] });
    const s = base(pod, [rc('a', 2, 'exited', 1), rc('a', 1, 'exited', 1)], new Map([['a', { reason: 'CrashLoopBackOff', message: 'back-off 20s' }]]));
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses?.[0]).toMatchObject({
      restartCount: 2, ready: false, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'containerd://a-2' } },
    });
  });

  it('computes Succeeded and Failed by restartPolicy, and init container progress', () => {
    const never = makePod('p', 'n', { restartPolicy: 'Never', containers: [{ name: 'a' }, { name: 'b' }] });
    expect(base(never, [rc('a', 0, 'exited', 0), rc('b', 0, 'exited', 0)]).phase).toBe('Succeeded');
    expect(base(never, [rc('a', 0, 'exited', 0), rc('b', 0, 'exited', 2)]).phase).toBe('Failed');
    expect(base(never, [rc('a', 0, 'exited', 0), rc('b', 0, 'running')]).phase).toBe('Running');
    const onFailure = makePod('p', 'n', { restartPolicy: 'OnFailure', containers: [{ name: 'a' }] });
    expect(base(onFailure, [rc('a', 0, 'exited', 3)]).phase).toBe('Running');
    const withInit = makePod('p', 'n', { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] });
    const s = base(withInit, [rc('i1', 0, 'exited', 0), rc('i2', 0, 'running')]);
    expect(s.phase).toBe('Pending');
    expect(s.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i2]' });
    expect(s.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    const neverInit = makePod('p', 'n', { restartPolicy: 'Never', initContainers: [{ name: 'i1' }], containers: [{ name: 'a' }] });
    expect(base(neverInit, [rc('i1', 0, 'exited', 1)]).phase).toBe('Failed');
  });

  it('keeps transition times while a condition holds and a terminal phase for good', () => {
    const pod = makePod('p', 'n', { restartPolicy: 'Never', containers: [{ name: 'a' }] });
    const first = base(pod, [rc('a', 0, 'running')]);
    const second = computePodStatus({
      pod, rt: rtPod([rc('a', 0, 'exited', 0)]), hostIP: 'h', waiting: new Map(), probe: () => undefined, previous: first, startTimeMs: t0, now: t0 + 60_000,
    });
    expect(second.phase).toBe('Succeeded');
    expect(second.conditions?.find((c) => c.type === 'Initialized')?.lastTransitionTime).toBe('2026-01-01T00:00:05Z');
    expect(second.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted', lastTransitionTime: '2026-01-01T00:01:00Z' });
    const third = computePodStatus({
      pod, rt: { sandboxes: [], containers: [], current: undefined, podIP: '' }, hostIP: 'h', waiting: new Map(), probe: () => undefined, previous: second, startTimeMs: t0, now: t0 + 90_000,
    });
    expect(third.phase).toBe('Succeeded');
  });

  it('is Ready only once every readiness gate\'s condition, read from the pod as the server has it, is True', () => {
    const gate = 'target-health.example.com/ready';
    const other = 'example.com/warm';
    const pod = makePod('p', 'n', { readinessGates: [{ conditionType: gate }, { conditionType: other }], containers: [{ name: 'a', image: 'img' }] });
    const running = [rc('a', 0, 'running')];
    const withConditions = (conditions: { type: string; status: string }[]): Pod => ({ ...pod, status: { conditions } });
    const none = base(pod, running);
    expect(none.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    expect(none.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False', reason: 'ReadinessGatesNotReady',
      message: `corresponding condition of pod readiness gate "${gate}" does not exist., corresponding condition of pod readiness gate "${other}" does not exist.`,
    });
    const one = base(withConditions([{ type: gate, status: 'True' }, { type: other, status: 'False' }]), running);
    expect(one.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady', message: `the status of pod readiness gate "${other}" is not "True", but False` });
    const all = base(withConditions([{ type: gate, status: 'True' }, { type: other, status: 'True' }, { type: 'Ready', status: 'False' }]), running);
    expect(all.conditions?.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:05Z' });
    // The gates' conditions are carried as the server has them; the server's copy of Ready is ours to compute.
    expect(all.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True', `${gate}=True`, `${other}=True`,
    ]);
    // Our own last report does not stand in for the server's copy: a gate condition only it holds counts for nothing.
    const stale = computePodStatus({
      pod, rt: rtPod(running), hostIP: 'h', waiting: new Map(), probe: () => ({ ready: true, started: true }), previous: all, startTimeMs: t0, now: t0 + 9000,
    });
    expect(stale.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady', lastTransitionTime: '2026-01-01T00:00:09Z' });
    expect(stale.conditions?.some((c) => c.type === gate)).toBe(false);
  });

  it('hashes container specs independently of key order and resources', () => {
    expect(containerHash({ name: 'a', image: 'i', command: ['x'] })).toBe(containerHash({ command: ['x'], image: 'i', name: 'a' }));
    expect(containerHash({ name: 'a', image: 'i' })).toBe(containerHash({ name: 'a', image: 'i', resources: { limits: { cpu: '1' } } }));
    expect(containerHash({ name: 'a', image: 'i' })).not.toBe(containerHash({ name: 'a', image: 'j' }));
  });
});

describe('event recorder', () => {
  it('drops repeated warnings and BackOff within the window, never lifecycle events', () => {
    let now = 0;
    const sink = new RecordingSink();
    const ev = new EventRecorder(sink, () => now);
    const pod = makePod('p', 'n', {});
    for (let i = 0; i < 3; i++) {
      ev.pod(pod, 'Warning', 'Unhealthy', 'Liveness probe failed: x', { name: 'c' });
      ev.pod(pod, 'Normal', 'BackOff', 'Back-off restarting failed container c', { name: 'c' });
      ev.pod(pod, 'Normal', 'Started', 'Started container c', { name: 'c' });
      now += 1000;
    }
    now += 30_000;
    ev.pod(pod, 'Warning', 'Unhealthy', 'Liveness probe failed: x', { name: 'c' });
    expect(sink.events.map((e) => e.reason)).toEqual(['Unhealthy', 'BackOff', 'Started', 'Started', 'Started', 'Unhealthy']);
    expect(sink.events[0]).toMatchObject({
      type: 'Warning', at: 0, involvedObject: { kind: 'Pod', namespace: 'default', name: 'p', uid: pod.metadata!.uid, fieldPath: 'spec.containers{c}' },
    });
  });
});
