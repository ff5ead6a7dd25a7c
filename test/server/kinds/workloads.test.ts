import { describe, expect, it } from 'vitest';
import { cronScheduleError } from '../../../src/server/kinds/cron-schedule.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { admit, ago, defaulted, headers, row } from './helpers.ts';

const TEMPLATE_SPEC_DEFAULTS = {
  containers: [
    {
      name: 'nginx',
      image: 'nginx:1.27',
      imagePullPolicy: 'IfNotPresent',
      resources: {},
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    },
  ],
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

function workload(apiVersion: string, kind: string, spec: Record<string, unknown>, name = 'web'): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace: 'default', uid: 'uid-1', creationTimestamp: ago(3600) }, spec };
}

function appsSpec(labels: Record<string, string> = { app: 'web' }, selector: Record<string, string> = { app: 'web' }) {
  return {
    selector: { matchLabels: selector },
    template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
  };
}

describe('Deployment', () => {
  it('defaults like apps/v1 SetDefaults_Deployment, pod template included', () => {
    const d = defaulted('apps', 'Deployment', workload('apps/v1', 'Deployment', appsSpec()));
    expect(d.spec).toEqual({
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: { metadata: { labels: { app: 'web' } }, spec: TEMPLATE_SPEC_DEFAULTS },
    });
  });

  it('Recreate gets no rollingUpdate', () => {
    const d = defaulted('apps', 'Deployment', workload('apps/v1', 'Deployment', { ...appsSpec(), strategy: { type: 'Recreate' } }));
    expect((d.spec as Record<string, unknown>).strategy).toEqual({ type: 'Recreate' });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid', appsSpec(), []],
    [
      'selector does not match template labels',
      appsSpec({ app: 'x' }, { app: 'web' }),
      ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`'],
    ],
    ['negative replicas', { ...appsSpec(), replicas: -1 }, ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['missing selector', { template: appsSpec().template }, ['spec.selector: Required value']],
    [
      'template restartPolicy must be Always',
      { ...appsSpec(), template: { ...appsSpec().template, spec: { containers: [{ name: 'nginx', image: 'nginx' }], restartPolicy: 'Never' } } },
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
    [
      'bad strategy type',
      { ...appsSpec(), strategy: { type: 'BlueGreen' } },
      ['spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"'],
    ],
    [
      'bad maxSurge percent',
      { ...appsSpec(), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25x' } } },
      ["spec.strategy.rollingUpdate.maxSurge: Invalid value: 25x: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"],
    ],
    [
      'both zero',
      { ...appsSpec(), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
    ],
    [
      'container without image inside the template',
      { ...appsSpec(), template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } } },
      ['spec.template.spec.containers[0].image: Required value'],
    ],
  ])('%s', (_name, spec, want) => {
    expect(admit('apps', 'Deployment', workload('apps/v1', 'Deployment', spec))).toEqual(want);
  });

  it('selector is immutable', () => {
    const old = defaulted('apps', 'Deployment', workload('apps/v1', 'Deployment', appsSpec()));
    const next = workload('apps/v1', 'Deployment', appsSpec({ app: 'web2' }, { app: 'web2' }));
    expect(admit('apps', 'Deployment', next, old)).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
    expect(admit('apps', 'Deployment', workload('apps/v1', 'Deployment', { ...appsSpec(), replicas: 3 }), old)).toEqual([]);
  });

  it('table', () => {
    expect(headers('apps', 'Deployment')).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(headers('apps', 'Deployment', true).slice(5)).toEqual(['CONTAINERS', 'IMAGES', 'SELECTOR']);
    const d = defaulted('apps', 'Deployment', workload('apps/v1', 'Deployment', { ...appsSpec(), replicas: 3 }));
    d.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
    expect(row('apps', 'Deployment', d)).toEqual(['web', '2/3', 3, 2, '60m', 'nginx', 'nginx:1.27', 'app=web']);
  });
});

describe('ReplicaSet, DaemonSet, StatefulSet', () => {
  it('ReplicaSet defaults replicas and validates like a Deployment', () => {
    const rs = defaulted('apps', 'ReplicaSet', workload('apps/v1', 'ReplicaSet', appsSpec()));
    expect((rs.spec as Record<string, unknown>).replicas).toBe(1);
    expect(admit('apps', 'ReplicaSet', workload('apps/v1', 'ReplicaSet', appsSpec({ app: 'x' })))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    rs.status = { replicas: 1, readyReplicas: 1 };
    expect(row('apps', 'ReplicaSet', rs)).toEqual(['web', 1, 1, 1, '60m', 'nginx', 'nginx:1.27', 'app=web']);
  });

  it('DaemonSet defaults the rolling update', () => {
    const ds = defaulted('apps', 'DaemonSet', workload('apps/v1', 'DaemonSet', appsSpec()));
    expect(ds.spec).toMatchObject({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 });
    expect(admit('apps', 'DaemonSet', workload('apps/v1', 'DaemonSet', { ...appsSpec(), updateStrategy: { type: 'Sometimes' } }))).toEqual([
      'spec.updateStrategy.type: Unsupported value: "Sometimes": supported values: "OnDelete", "RollingUpdate"',
    ]);
    ds.status = { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 };
    expect(headers('apps', 'DaemonSet')).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
    expect(row('apps', 'DaemonSet', ds).slice(0, 8)).toEqual(['web', 2, 2, 1, 2, 1, '<none>', '60m']);
  });

  it('StatefulSet defaults and its update rule', () => {
    const sts = defaulted('apps', 'StatefulSet', workload('apps/v1', 'StatefulSet', { ...appsSpec(), serviceName: 'web' }));
    expect(sts.spec).toMatchObject({
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      replicas: 1,
      revisionHistoryLimit: 10,
    });
    const next = structuredClone(sts);
    (next.spec as Record<string, unknown>).replicas = 3;
    expect(admit('apps', 'StatefulSet', next, sts)).toEqual([]);
    (next.spec as Record<string, unknown>).serviceName = 'other';
    expect(admit('apps', 'StatefulSet', next, sts)).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
    sts.status = { readyReplicas: 1 };
    expect(row('apps', 'StatefulSet', sts)).toEqual(['web', '1/1', '60m', 'nginx', 'nginx:1.27']);
  });
});

function jobSpec(restartPolicy?: string) {
  return { template: { spec: { containers: [{ name: 'pi', image: 'perl:5' }], ...(restartPolicy ? { restartPolicy } : {}) } } };
}

describe('Job', () => {
  it('defaults and generates the controller-uid selector', () => {
    const job = defaulted('batch', 'Job', workload('batch/v1', 'Job', jobSpec('Never'), 'pi'));
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      manualSelector: false,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-1' } },
      template: {
        metadata: {
          labels: { 'batch.kubernetes.io/controller-uid': 'uid-1', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'uid-1', 'job-name': 'pi' },
        },
      },
    });
    // SetDefaults_Job copies template labels to a job without labels.
    expect((job.metadata as Record<string, unknown>).labels).toEqual({
      'batch.kubernetes.io/controller-uid': 'uid-1',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': 'uid-1',
      'job-name': 'pi',
    });
  });

  it('a user selector gets the uid; a foreign uid is rejected', () => {
    const job = workload('batch/v1', 'Job', { ...jobSpec('Never'), selector: { matchLabels: { app: 'pi' } } }, 'pi');
    ((job.spec as { template: Record<string, unknown> }).template).metadata = { labels: { app: 'pi' } };
    expect(admit('batch', 'Job', job)).toEqual([]);
    expect((job.spec as Record<string, unknown>).selector).toEqual({ matchLabels: { app: 'pi', 'batch.kubernetes.io/controller-uid': 'uid-1' } });
    const foreign = workload('batch/v1', 'Job', { ...jobSpec('Never'), selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'other' } } }, 'pi');
    expect(admit('batch', 'Job', foreign)).toContain(
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"batch.kubernetes.io/controller-uid":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated',
    );
  });

  it('parallelism alone leaves completions unset', () => {
    const job = defaulted('batch', 'Job', workload('batch/v1', 'Job', { ...jobSpec('Never'), parallelism: 3 }));
    expect((job.spec as Record<string, unknown>).completions).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid', jobSpec('OnFailure'), []],
    ['restartPolicy defaults to Always, which Jobs reject', jobSpec(), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']],
    ['negative backoffLimit', { ...jobSpec('Never'), backoffLimit: -1 }, ['spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']],
    [
      'manual selector must match',
      { ...jobSpec('Never'), manualSelector: true, selector: { matchLabels: { a: 'b' } } },
      ['spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`'],
    ],
    ['manual selector required', { ...jobSpec('Never'), manualSelector: true }, ['spec.selector: Required value']],
  ])('%s', (_name, spec, want) => {
    expect(admit('batch', 'Job', workload('batch/v1', 'Job', spec, 'pi'))).toEqual(want);
  });

  it('template is immutable', () => {
    const old = defaulted('batch', 'Job', workload('batch/v1', 'Job', jobSpec('Never'), 'pi'));
    const next = structuredClone(old);
    ((next.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0] as { image: string }).image = 'perl:6';
    const errs = admit('batch', 'Job', next, old);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec\.template: Invalid value: .*: field is immutable$/);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    ['running', { completions: 1, parallelism: 1 }, { startTime: ago(30), active: 1 }, ['Running', '0/1', '30s']],
    [
      'complete',
      { completions: 3, parallelism: 1 },
      { startTime: ago(600), completionTime: ago(400), succeeded: 3, conditions: [{ type: 'Complete', status: 'True' }] },
      ['Complete', '3/3', '3m20s'],
    ],
    ['failed', { completions: 1 }, { startTime: ago(60), conditions: [{ type: 'Failed', status: 'True' }] }, ['Failed', '0/1', '60s']],
    ['suspended work queue', { parallelism: 2 }, { conditions: [{ type: 'Suspended', status: 'True' }] }, ['Suspended', '0/1 of 2', '']],
  ])('table: %s', (_name, spec, status, want) => {
    const job = workload('batch/v1', 'Job', { ...jobSpec('Never'), ...spec }, 'pi');
    job.status = status;
    expect(row('batch', 'Job', job).slice(1, 4)).toEqual(want);
  });

  it('table headers', () => {
    expect(headers('batch', 'Job')).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  });
});

describe('CronJob', () => {
  const cron = (spec: Record<string, unknown>, name = 'hello') => workload('batch/v1', 'CronJob', { jobTemplate: { spec: jobSpec('OnFailure') }, ...spec }, name);

  it('defaults', () => {
    const cj = defaulted('batch', 'CronJob', cron({ schedule: '*/5 * * * *' }));
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(admit('batch', 'CronJob', cron({ schedule: '*/5 * * * *' }))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['missing schedule', {}, ['spec.schedule: Required value']],
    ['bad schedule', { schedule: 'every minute' }, ['spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]']],
    ['out of range', { schedule: '61 * * * *' }, ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']],
    ['TZ in schedule', { schedule: 'TZ=UTC 0 * * * *' }, ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['bad policy', { schedule: '@hourly', concurrencyPolicy: 'Sometimes' }, ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']],
    [
      'job template restart policy',
      { schedule: '@daily', jobTemplate: { spec: jobSpec('Always') } },
      ['spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'],
    ],
  ])('%s', (_name, spec, want) => {
    expect(admit('batch', 'CronJob', cron(spec))).toEqual(want);
  });

  it('names stop at 52 characters', () => {
    const name = 'c'.repeat(53);
    expect(admit('batch', 'CronJob', cron({ schedule: '@daily' }, name))).toEqual([`metadata.name: Invalid value: "${name}": must be no more than 52 characters`]);
  });

  it.each([
    ['0 0 * * mon-fri', undefined],
    ['*/15 9-17 1,15 jan-jun *', undefined],
    ['@every 1h30m', undefined],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['0 0 31-1 * *', 'beginning of range (31) beyond end of range (1): 31-1'],
  ])('schedule %j', (schedule, want) => {
    expect(cronScheduleError(schedule)).toBe(want);
  });

  it('table', () => {
    expect(headers('batch', 'CronJob')).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    const cj = defaulted('batch', 'CronJob', cron({ schedule: '*/5 * * * *' }));
    expect(row('batch', 'CronJob', cj).slice(0, 7)).toEqual(['hello', '*/5 * * * *', '<none>', 'False', 0, '<none>', '60m']);
    cj.status = { active: [{ name: 'hello-1' }], lastScheduleTime: ago(90) };
    expect(row('batch', 'CronJob', cj).slice(4, 6)).toEqual([1, '90s']);
  });
});
