import { describe, expect, it } from 'vitest';
import { podQosClass } from '../../../src/server/kinds/pod.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { admit, ago, defaulted, headers, row } from './helpers.ts';

function pod(spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300) }, spec, ...extra };
}

describe('Pod defaulting', () => {
  it('fills what kubectl get -o yaml shows for a bare pod', () => {
    const p = defaulted('', 'Pod', pod({ containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] }));
    expect(p.spec).toEqual({
      containers: [
        {
          name: 'nginx',
          image: 'nginx',
          imagePullPolicy: 'Always',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: 'default',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    });
    expect(p.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry:5000/app', 'Always'],
    ['registry:5000/app:v2', 'IfNotPresent'],
    ['nginx@sha256:abcd', 'IfNotPresent'],
  ])('image %s pulls %s', (image, policy) => {
    const p = defaulted('', 'Pod', pod({ containers: [{ name: 'c', image }] }));
    expect((p.spec as { containers: { imagePullPolicy: string }[] }).containers[0]?.imagePullPolicy).toBe(policy);
  });

  it('keeps user tolerations and does not duplicate a covered taint', () => {
    const own = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 };
    const p = defaulted('', 'Pod', pod({ containers: [{ name: 'c', image: 'x' }], tolerations: [own] }));
    expect((p.spec as { tolerations: unknown[] }).tolerations).toEqual([
      own,
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('defaults probes, volumes and requests from limits', () => {
    const p = defaulted(
      '',
      'Pod',
      pod({
        containers: [
          {
            name: 'c',
            image: 'x:1',
            livenessProbe: { httpGet: { port: 80 } },
            resources: { limits: { cpu: '1', memory: '1Gi' } },
          },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch' }],
      }),
    );
    const spec = p.spec as Record<string, unknown> & { containers: Record<string, unknown>[]; volumes: unknown[] };
    expect(spec.containers[0]?.livenessProbe).toEqual({
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(spec.containers[0]?.resources).toEqual({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
    expect(spec.volumes).toEqual([{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }, { name: 'scratch', emptyDir: {} }]);
    expect(p.status).toMatchObject({ qosClass: 'Guaranteed' });
  });

  it.each([
    [[{ resources: {} }], 'BestEffort'],
    [[{ resources: { requests: { cpu: '100m' } } }], 'Burstable'],
    [[{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } }], 'Guaranteed'],
    [[{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } } }], 'Burstable'],
  ])('QoS of %j is %s', (containers, want) => {
    expect(podQosClass({ containers })).toBe(want);
  });
});

describe('Pod validation', () => {
  const ok = { name: 'c', image: 'nginx' };
  it.each([
    ['no containers', { containers: [] }, ['spec.containers: Required value']],
    ['no image', { containers: [{ name: 'c' }] }, ['spec.containers[0].image: Required value']],
    ['no container name', { containers: [{ image: 'x' }] }, ['spec.containers[0].name: Required value']],
    [
      'duplicate container names',
      { containers: [ok, ok] },
      ['spec.containers[1].name: Duplicate value: "c"'],
    ],
    [
      'init container name clashes with a container',
      { initContainers: [ok], containers: [ok] },
      ['spec.containers[0].name: Duplicate value: "c"'],
    ],
    [
      'invalid container name',
      { containers: [{ name: 'My_C', image: 'x' }] },
      [
        `spec.containers[0].name: Invalid value: "My_C": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ],
    [
      'port out of range',
      { containers: [{ ...ok, ports: [{ containerPort: 70000 }] }] },
      ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ],
    [
      'missing container port',
      { containers: [{ ...ok, ports: [{ name: 'http' }] }] },
      ['spec.containers[0].ports[0].containerPort: Required value'],
    ],
    [
      'invalid port name',
      { containers: [{ ...ok, ports: [{ containerPort: 80, name: 'Web' }] }] },
      ['spec.containers[0].ports[0].name: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    ],
    [
      'duplicate port names',
      { containers: [{ ...ok, ports: [{ containerPort: 80, name: 'web' }, { containerPort: 81, name: 'web' }] }] },
      ['spec.containers[0].ports[1].name: Duplicate value: "web"'],
    ],
    [
      'bad protocol',
      { containers: [{ ...ok, ports: [{ containerPort: 80, protocol: 'HTTP' }] }] },
      ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    ],
    [
      'bad restartPolicy',
      { containers: [ok], restartPolicy: 'Sometimes' },
      ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"'],
    ],
    [
      'bad imagePullPolicy',
      { containers: [{ ...ok, imagePullPolicy: 'Maybe' }] },
      ['spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"'],
    ],
    [
      'mount of an unknown volume',
      { containers: [{ ...ok, volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      ['spec.containers[0].volumeMounts[0].name: Not found: "data"'],
    ],
    [
      'bad quantity',
      { containers: [{ ...ok, resources: { limits: { memory: '1GB' } } }] },
      [`spec.containers[0].resources.limits[memory]: Invalid value: "1GB": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`],
    ],
    [
      'request above limit',
      { containers: [{ ...ok, resources: { limits: { cpu: '500m' }, requests: { cpu: '1' } } }] },
      ['spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m'],
    ],
    [
      'negative request',
      { containers: [{ ...ok, resources: { requests: { memory: '-1Mi' } } }] },
      ['spec.containers[0].resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0'],
    ],
    [
      'probe without a handler',
      { containers: [{ ...ok, livenessProbe: { periodSeconds: 5 } }] },
      ['spec.containers[0].livenessProbe: Required value: must specify a handler type'],
    ],
    [
      'probe with two handlers',
      { containers: [{ ...ok, readinessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } }] },
      ['spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
    ],
    [
      'liveness successThreshold must be 1',
      { containers: [{ ...ok, livenessProbe: { tcpSocket: { port: 'http' }, successThreshold: 2 } }] },
      ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    ],
    [
      'probe port out of range',
      { containers: [{ ...ok, startupProbe: { httpGet: { port: 0 } } }] },
      ['spec.containers[0].startupProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive'],
    ],
    [
      'preStop hook without a handler',
      { containers: [{ ...ok, lifecycle: { preStop: {} } }] },
      ['spec.containers[0].lifecycle.preStop: Required value: must specify a handler type'],
    ],
    [
      'bad node selector value',
      { containers: [ok], nodeSelector: { disk: 'fast ssd' } },
      [expect.stringMatching(/^spec\.nodeSelector: Invalid value: "fast ssd": a valid label must be an empty string/)],
    ],
  ])('%s', (_name, spec, want) => {
    expect(admit('', 'Pod', pod(spec))).toEqual(want);
  });

  it('a valid pod has no errors', () => {
    expect(admit('', 'Pod', pod({ containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'http' }] }] }))).toEqual([]);
  });

  describe('updates', () => {
    function stored(): KubeObject {
      return defaulted('', 'Pod', pod({ containers: [{ name: 'c', image: 'nginx:1' }] }));
    }
    it('allows a new image', () => {
      const old = stored();
      const next = structuredClone(old);
      (next.spec as { containers: { image: string }[] }).containers[0]!.image = 'nginx:2';
      expect(admit('', 'Pod', next, old)).toEqual([]);
    });
    it('allows adding a toleration but not removing one', () => {
      const old = stored();
      const added = structuredClone(old);
      (added.spec as { tolerations: unknown[] }).tolerations.push({ key: 'k', operator: 'Exists', effect: 'NoSchedule' });
      expect(admit('', 'Pod', added, old)).toEqual([]);
      const removed = structuredClone(added);
      (removed.spec as { tolerations: unknown[] }).tolerations.pop();
      expect(admit('', 'Pod', removed, added)).toContain('spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
    });
    it('forbids other spec changes with the upstream message', () => {
      const old = stored();
      const next = structuredClone(old);
      (next.spec as Record<string, unknown>).restartPolicy = 'Never';
      expect(admit('', 'Pod', next, old)).toEqual([
        'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ]);
    });
    it('activeDeadlineSeconds may only shrink', () => {
      const old = stored();
      (old.spec as Record<string, unknown>).activeDeadlineSeconds = 100;
      const next = structuredClone(old);
      (next.spec as Record<string, unknown>).activeDeadlineSeconds = 50;
      expect(admit('', 'Pod', next, old)).toEqual([]);
      (next.spec as Record<string, unknown>).activeDeadlineSeconds = 200;
      expect(admit('', 'Pod', next, old)).toEqual(['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);
    });
  });
});

describe('Pod table', () => {
  const spec = { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], nodeName: 'node1' };
  const running = (ready: boolean) => ({ ready, restartCount: 0, state: { running: { startedAt: ago(100) } } });

  it('has kubectl columns', () => {
    expect(headers('', 'Pod')).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(headers('', 'Pod', true)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown> | undefined, unknown[]]>([
    ['pending, unscheduled', { phase: 'Pending' }, undefined, ['web', '0/2', 'Pending', '0', '5m', '<none>', 'node1', '<none>', '<none>']],
    [
      'container creating',
      { phase: 'Pending', containerStatuses: [{ ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }, { ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
      undefined,
      ['web', '0/2', 'ContainerCreating', '0', '5m', '<none>', 'node1', '<none>', '<none>'],
    ],
    [
      'running',
      { phase: 'Running', podIPs: [{ ip: '10.42.0.5' }], containerStatuses: [running(true), running(true)] },
      undefined,
      ['web', '2/2', 'Running', '0', '5m', '10.42.0.5', 'node1', '<none>', '<none>'],
    ],
    [
      'crash loop with restart age',
      {
        phase: 'Running',
        containerStatuses: [
          { ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(60) } } },
          running(true),
        ],
      },
      undefined,
      ['web', '1/2', 'CrashLoopBackOff', '5 (60s ago)', '5m', '<none>', 'node1', '<none>', '<none>'],
    ],
    [
      'completed',
      { phase: 'Succeeded', containerStatuses: [{ ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] },
      undefined,
      ['web', '0/2', 'Completed', '0', '5m', '<none>', 'node1', '<none>', '<none>'],
    ],
    [
      'one completed, one running and ready → Running',
      {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [running(true), { ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      },
      undefined,
      ['web', '1/2', 'Running', '0', '5m', '<none>', 'node1', '<none>', '<none>'],
    ],
    [
      'exit code without reason',
      { phase: 'Failed', containerStatuses: [{ ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }] },
      undefined,
      ['web', '0/2', 'ExitCode:3', '0', '5m', '<none>', 'node1', '<none>', '<none>'],
    ],
    ['terminating', { phase: 'Running', containerStatuses: [running(true), running(true)] }, { deletionTimestamp: ago(1) }, ['web', '2/2', 'Terminating', '0', '5m', '<none>', 'node1', '<none>', '<none>']],
    ['evicted keeps its reason', { phase: 'Failed', reason: 'Evicted' }, undefined, ['web', '0/2', 'Evicted', '0', '5m', '<none>', 'node1', '<none>', '<none>']],
  ])('%s', (_name, status, meta, want) => {
    const p = pod(spec, { status });
    if (meta) Object.assign(p.metadata as object, meta);
    expect(row('', 'Pod', p)).toEqual(want);
  });

  it('init containers: progress, failure and waiting reasons', () => {
    const initSpec = { ...spec, initContainers: [{ name: 'i1', image: 'x' }, { name: 'i2', image: 'x' }] };
    const done = { name: 'i1', ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
    const cases: [unknown[], string][] = [
      [[done, { name: 'i2', ready: false, restartCount: 0, state: { running: {} } }], 'Init:1/2'],
      [[done, { name: 'i2', ready: false, restartCount: 2, state: { terminated: { exitCode: 1, reason: 'Error' } } }], 'Init:Error'],
      [[{ name: 'i1', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }], 'Init:ImagePullBackOff'],
      [[{ name: 'i1', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }], 'Init:ExitCode:2'],
    ];
    for (const [initContainerStatuses, want] of cases) {
      const cells = row('', 'Pod', pod(initSpec, { status: { phase: 'Pending', initContainerStatuses } }));
      expect(cells[2]).toBe(want);
    }
  });

  it('readiness gates count true conditions', () => {
    const p = pod({ ...spec, readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] }, { status: { conditions: [{ type: 'a', status: 'True' }] } });
    expect(row('', 'Pod', p)[8]).toBe('1/2');
  });
});
