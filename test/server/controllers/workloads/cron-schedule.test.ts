import { describe, expect, it } from 'vitest';
import { parseCronSchedule } from '../../../../src/server/controllers/workloads/cron-schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('parseCronSchedule().next', () => {
  it.each([
    ['*/5 * * * *', '2026-11-22T03:12:30Z', '2026-11-22T03:15:00.000Z'],
    ['* * * * *', '2026-11-22T03:12:00Z', '2026-11-22T03:13:00.000Z'],
    ['0 * * * *', '2026-11-22T03:00:00Z', '2026-11-22T04:00:00.000Z'],
    ['@hourly', '2026-11-22T03:59:59Z', '2026-11-22T04:00:00.000Z'],
    ['@daily', '2026-11-22T03:00:00Z', '2026-11-23T00:00:00.000Z'],
    ['@weekly', '2026-11-22T03:00:00Z', '2026-11-29T00:00:00.000Z'], // 2026-11-22 is a Sunday
    ['@monthly', '2026-11-22T03:00:00Z', '2026-12-01T00:00:00.000Z'],
    ['@yearly', '2026-11-22T03:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['30 9-17/4 * * mon-fri', '2026-11-22T03:00:00Z', '2026-11-23T09:30:00.000Z'],
    ['30 9-17/4 * * mon-fri', '2026-11-23T09:30:00Z', '2026-11-23T13:30:00.000Z'],
    ['0 0 1,15 * *', '2026-11-02T00:00:00Z', '2026-11-15T00:00:00.000Z'],
    ['0 12 * JAN,jul *', '2026-11-22T03:00:00Z', '2027-01-01T12:00:00.000Z'],
    ['0 0 29 2 *', '2026-11-22T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['5/20 * * * *', '2026-11-22T03:06:00Z', '2026-11-22T03:25:00.000Z'],
    ['0 0 13 * 5', '2026-11-22T00:00:00Z', '2026-11-27T00:00:00.000Z'], // dom OR dow: the next Friday comes first
    ['0 0 */2 * 5', '2026-11-22T00:00:00Z', '2026-11-23T00:00:00.000Z'], // */2 is no star: OR
    ['0 0 * * 5', '2026-11-22T00:00:00Z', '2026-11-27T00:00:00.000Z'], // dom star: AND
  ])('%s after %s is %s', (schedule, after, want) => {
    expect(iso(parseCronSchedule(schedule).next(at(after)))).toBe(want);
  });

  it('supports @every', () => {
    expect(iso(parseCronSchedule('@every 1h30m').next(at('2026-11-22T03:00:00.500Z')))).toBe('2026-11-22T04:30:00.000Z');
  });

  it('evaluates in spec.timeZone, across a DST change', () => {
    // 09:00 in New York: UTC-5 in winter, UTC-4 in summer.
    const ny = parseCronSchedule('0 9 * * *', 'America/New_York');
    expect(iso(ny.next(at('2026-11-22T00:00:00Z')))).toBe('2026-11-22T14:00:00.000Z');
    expect(iso(ny.next(at('2026-07-01T00:00:00Z')))).toBe('2026-07-01T13:00:00.000Z');
    // 2026-03-08 02:30 does not exist in New York: the next 02:30 is a day later.
    expect(iso(parseCronSchedule('30 2 * * *', 'America/New_York').next(at('2026-03-08T05:00:00Z')))).toBe('2026-03-09T06:30:00.000Z');
  });

  it('returns undefined for a date that never comes', () => {
    expect(parseCronSchedule('0 0 31 2 *').next(at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});
