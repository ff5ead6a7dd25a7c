import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { jobNameFor, jobsToPrune, lastSuccessfulTime, mostRecentScheduleTime } from '../../../../src/server/controllers/workloads/cron-job-plan.ts';
import { parseCronSchedule } from '../../../../src/server/controllers/workloads/cron-schedule.ts';

const at = (iso: string) => Date.parse(iso);
const cron = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'cj', creationTimestamp: '2026-11-22T00:00:30Z' },
  spec: { schedule: '*/10 * * * *', ...spec },
  status,
});
const done = (name: string, type: 'Complete' | 'Failed', minute: number): KubeObject => ({
  metadata: { name },
  status: { ...(type === 'Complete' ? { completionTime: `2026-11-22T01:${String(minute).padStart(2, '0')}:00Z` } : {}), conditions: [{ type, status: 'True', lastTransitionTime: `2026-11-22T01:${String(minute).padStart(2, '0')}:00Z` }] },
});

describe('mostRecentScheduleTime', () => {
  const every10 = parseCronSchedule('*/10 * * * *');

  it('is nothing before the first schedule time, with the next one', () => {
    expect(mostRecentScheduleTime(cron({}), every10, at('2026-11-22T00:05:00Z'))).toEqual({ missed: 0, next: at('2026-11-22T00:10:00Z') });
  });

  it('is the latest of the missed times since the last schedule', () => {
    const r = mostRecentScheduleTime(cron({}, { lastScheduleTime: '2026-11-22T00:10:00Z' }), every10, at('2026-11-22T00:35:00Z'));
    expect(r).toEqual({ recent: at('2026-11-22T00:30:00Z'), missed: 2, next: at('2026-11-22T00:40:00Z') });
  });

  it('looks back no further than startingDeadlineSeconds', () => {
    const r = mostRecentScheduleTime(cron({ startingDeadlineSeconds: 60 }), every10, at('2026-11-22T05:00:30Z'));
    expect(r).toEqual({ recent: at('2026-11-22T05:00:00Z'), missed: 1, next: at('2026-11-22T05:10:00Z') });
    expect(mostRecentScheduleTime(cron({ startingDeadlineSeconds: 60 }), every10, at('2026-11-22T05:02:00Z')).recent).toBeUndefined();
  });
});

describe('CronJob jobs', () => {
  it('names a Job after its schedule time in minutes', () => {
    expect(jobNameFor(cron({}), at('2026-11-22T00:10:00Z'))).toBe(`cj-${at('2026-11-22T00:10:00Z') / 60_000}`);
  });

  it('prunes the oldest finished Jobs beyond each history limit, never running ones', () => {
    const jobs = [done('c1', 'Complete', 1), done('c2', 'Complete', 2), done('c3', 'Complete', 3), done('c4', 'Complete', 4), done('f1', 'Failed', 1), done('f2', 'Failed', 2), { metadata: { name: 'run' } }];
    expect(jobsToPrune(cron({}), jobs).map((j) => j.metadata.name)).toEqual(['c1', 'f1']);
    expect(jobsToPrune(cron({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 5 }), jobs).map((j) => j.metadata.name)).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  it('lastSuccessfulTime is the newest completion, never going back', () => {
    expect(lastSuccessfulTime(cron({}), [done('c1', 'Complete', 1), done('c3', 'Complete', 3), done('f', 'Failed', 9)])).toBe(at('2026-11-22T01:03:00Z'));
    expect(lastSuccessfulTime(cron({}, { lastSuccessfulTime: '2026-11-22T02:00:00Z' }), [done('c1', 'Complete', 1)])).toBe(at('2026-11-22T02:00:00Z'));
    expect(lastSuccessfulTime(cron({}), [])).toBeUndefined();
  });
});
