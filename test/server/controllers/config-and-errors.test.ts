// The controller flags of `edgeos server` and the client's translation of Status answers.
import { describe, expect, it } from 'vitest';
import { resolveServerConfig } from '../../../src/server/config.ts';
import { errorFromStatus } from '../../../src/server/controllers/client/api-errors.ts';
import { AlreadyExistsError, ApiError, ConflictError, NotFoundError } from '../../../src/server/controllers/types.ts';

describe('controller flags', () => {
  it('defaults to controllers on and a 40 s grace period checked every 5 s', () => {
    const c = resolveServerConfig({}, {});
    expect(c.disableControllers).toBe(false);
    expect(c.nodeMonitorGracePeriodMs).toBe(40_000);
    expect(c.nodeMonitorPeriodMs).toBe(5000);
  });

  it('takes flags over EDGEOS_* variables and names the offending one', () => {
    expect(resolveServerConfig({ nodeMonitorGracePeriod: '2m' }, { EDGEOS_NODE_MONITOR_GRACE_PERIOD: '10s' }).nodeMonitorGracePeriodMs).toBe(120_000);
    const c = resolveServerConfig({}, { EDGEOS_NODE_MONITOR_GRACE_PERIOD: '4s', EDGEOS_DISABLE_CONTROLLERS: 'true' });
    expect(c.nodeMonitorGracePeriodMs).toBe(4000);
    expect(c.nodeMonitorPeriodMs).toBe(1000);
    expect(c.disableControllers).toBe(true);
    expect(() => resolveServerConfig({ nodeMonitorGracePeriod: 'soon' }, {})).toThrow(/^--node-monitor-grace-period: "soon" is not a duration/);
    expect(() => resolveServerConfig({}, { EDGEOS_DISABLE_CONTROLLERS: 'maybe' })).toThrow(/^EDGEOS_DISABLE_CONTROLLERS:/);
  });
});

describe('client errors', () => {
  const status = (code: number, reason: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `m${code}` });
  it.each([
    [404, 'NotFound', NotFoundError, 'CONTROLLER_NOT_FOUND'],
    [409, 'AlreadyExists', AlreadyExistsError, 'CONTROLLER_ALREADY_EXISTS'],
    [409, 'Conflict', ConflictError, 'CONTROLLER_CONFLICT'],
    [429, 'TooManyRequests', ApiError, 'CONTROLLER_API_ERROR'],
    [422, 'Invalid', ApiError, 'CONTROLLER_API_ERROR'],
  ] as const)('%i %s → %s', (code, reason, cls, errCode) => {
    const e = errorFromStatus(code, status(code, reason), 'get pods x') as Error & { code: string; status: number; reason: string };
    expect(e).toBeInstanceOf(cls);
    expect(e.code).toBe(errCode);
    expect(e.status).toBe(code);
    expect(e.reason).toBe(reason);
    expect(e.message).toBe(`get pods x: m${code}`);
  });
  it('keeps a non-Status body as the message', () => {
    const e = errorFromStatus(502, 'bad gateway', 'list nodes');
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe('list nodes: bad gateway');
  });
});
