import { describe, expect, it } from 'vitest';
import { decodeContinue, encodeContinue } from '../../../src/server/api/continue-token.ts';
import { ApiError } from '../../../src/server/storage/status.ts';

describe('continue tokens', () => {
  it('round-trip the revision and position', () => {
    const t = encodeContinue({ revision: 42, after: 'default/web-1' });
    expect(decodeContinue(t)).toEqual({ revision: 42, after: 'default/web-1' });
    expect(JSON.parse(Buffer.from(t, 'base64url').toString())).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'default/web-1' });
  });

  it.each([
    ['garbage!!', 400],
    [Buffer.from('{"v":"x","rv":1,"start":"a"}').toString('base64url'), 400],
    [Buffer.from('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').toString('base64url'), 400],
    [Buffer.from('{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}').toString('base64url'), 400],
  ])('rejects %j as a 400 BadRequest', (token, code) => {
    let err: unknown;
    try {
      decodeContinue(token);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).httpStatus).toBe(code);
    expect((err as ApiError).message).toMatch(/^continue key is not valid/);
  });
});
