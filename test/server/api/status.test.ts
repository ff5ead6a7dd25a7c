import { describe, expect, it } from 'vitest';
import { translateStoreError } from '../../../src/server/storage/store-errors.ts';
import { ApiError, invalid } from '../../../src/server/storage/status.ts';
import {
  ClosedError, CompactedError, ConflictError, DatabaseError, FutureRevisionError, KeyExistsError, NotFoundError, ValueTooLargeError,
} from '../../../src/store/errors.ts';

const pods = { group: '', plural: 'pods' };
const deployments = { group: 'apps', plural: 'deployments' };

describe('store errors become Kubernetes Status', () => {
  it.each([
    [new KeyExistsError('/k'), pods, 409, 'AlreadyExists', 'pods "web" already exists'],
    [new KeyExistsError('/k'), deployments, 409, 'AlreadyExists', 'deployments.apps "web" already exists'],
    [new ConflictError('/k', 1, 2), pods, 409, 'Conflict', 'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again'],
    [new NotFoundError('/k'), deployments, 404, 'NotFound', 'deployments.apps "web" not found'],
    [new CompactedError(5, 10), pods, 410, 'Expired', 'too old resource version: 5 (11)'],
    [new FutureRevisionError(100, 50), pods, 504, 'Timeout', 'Too large resource version: 100, current: 50'],
    [new ValueTooLargeError('/k', 2, 1), pods, 413, 'RequestEntityTooLarge', 'Request entity too large: value for /k is 2 bytes, over the 1-byte limit'],
    [new ClosedError(), pods, 503, 'ServiceUnavailable', 'the server is shutting down'],
    [new DatabaseError('STORE_UNAVAILABLE', 'db:5432', 'get: db:5432 is unavailable: connection refused'), pods, 503, 'ServiceUnavailable', 'get: db:5432 is unavailable: connection refused'],
    [new DatabaseError('STORE_CORRUPT', '/x.db', 'the database is damaged'), pods, 500, 'InternalError', 'Internal error occurred: the database is damaged'],
  ])('%s → %i %s', (err, r, code, reason, message) => {
    const out = translateStoreError(err, r, 'web');
    expect(out).toBeInstanceOf(ApiError);
    const status = (out as ApiError).toStatus();
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message });
  });

  it('names the resource in details like apiserver', () => {
    const s = (translateStoreError(new NotFoundError('/k'), deployments, 'web') as ApiError).toStatus();
    expect(s.details).toEqual({ name: 'web', group: 'apps', kind: 'deployments' });
  });

  it('passes through errors it does not know', () => {
    const e = new Error('x');
    expect(translateStoreError(e, pods, 'a')).toBe(e);
  });

  it('formats 422 Invalid as kubectl expects (one cause plain, several bracketed)', () => {
    const one = invalid('Pod', '', 'p', [{ reason: 'FieldValueRequired', field: 'spec.containers[0].image', message: 'Required value' }]);
    expect(one.message).toBe('Pod "p" is invalid: spec.containers[0].image: Required value');
    const two = invalid('Deployment', 'apps', 'd', [
      { field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
      { field: 'spec.selector', message: 'Required value' },
    ]);
    expect(two.message).toBe('Deployment.apps "d" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.selector: Required value]');
    expect(two.toStatus().details).toMatchObject({ name: 'd', group: 'apps', kind: 'Deployment' });
  });
});
