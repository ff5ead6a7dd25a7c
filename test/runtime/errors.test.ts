// Error codes are public API: one table over every class and every gRPC translation.
import { describe, expect, it } from 'vitest';
import { EdgeosError } from '../../src/common/errors.ts';
import {
  classifyPullError, ContainerdError, fromGrpcStatus, ImageImportError, ImageNotFoundError, ImagePullError,
  ImageReferenceError, RuntimeAlreadyExistsError, RuntimeCallError, RuntimeError, RuntimeInvalidRequestError,
  RuntimeNotFoundError, RuntimeTimeoutError, RuntimeUnavailableError, RuntimeUnimplementedError,
} from '../../src/runtime/errors.ts';

describe('runtime errors', () => {
  it.each([
    [RuntimeNotFoundError, 'RUNTIME_NOT_FOUND'],
    [RuntimeAlreadyExistsError, 'RUNTIME_ALREADY_EXISTS'],
    [RuntimeUnavailableError, 'RUNTIME_UNAVAILABLE'],
    [RuntimeTimeoutError, 'RUNTIME_TIMEOUT'],
    [RuntimeInvalidRequestError, 'RUNTIME_INVALID_REQUEST'],
    [RuntimeUnimplementedError, 'RUNTIME_UNIMPLEMENTED'],
    [RuntimeCallError, 'RUNTIME_CALL_FAILED'],
    [ImageReferenceError, 'RUNTIME_IMAGE_INVALID_REFERENCE'],
    [ImageNotFoundError, 'RUNTIME_IMAGE_NOT_FOUND'],
    [ImagePullError, 'RUNTIME_IMAGE_PULL_FAILED'],
    [ImageImportError, 'RUNTIME_IMAGE_IMPORT_FAILED'],
    [ContainerdError, 'RUNTIME_CONTAINERD_FAILED'],
  ])('%o has code %s', (Cls, code) => {
    const cause = new Error('root');
    const e = new Cls('msg', { cause });
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e).toBeInstanceOf(EdgeosError);
    expect(e.code).toBe(code);
    expect(e.name).toBe(Cls.name);
    expect(e.cause).toBe(cause);
  });

  it.each([
    [5, 'x', RuntimeNotFoundError],
    [6, 'x', RuntimeAlreadyExistsError],
    [2, 'failed to reserve sandbox name "a_b_c_0": name "a_b_c_0" is reserved for "1234"', RuntimeAlreadyExistsError],
    [14, 'x', RuntimeUnavailableError],
    [4, 'x', RuntimeTimeoutError],
    [3, 'x', RuntimeInvalidRequestError],
    [9, 'x', RuntimeInvalidRequestError],
    [12, 'x', RuntimeUnimplementedError],
    [2, 'x', RuntimeCallError],
    [13, 'x', RuntimeCallError],
  ])('gRPC code %i (%s) becomes %o', (code, details, Cls) => {
    const e = fromGrpcStatus('RunPodSandbox', code, details, undefined);
    expect(e).toBeInstanceOf(Cls);
    expect(e.message).toBe(`RunPodSandbox: ${details}`);
  });

  it.each([
    ['failed to pull and unpack image "docker.io/library/x:1": failed to resolve reference "docker.io/library/x:1": docker.io/library/x:1: not found', ImageNotFoundError],
    ['failed to pull image "Bad::Ref": invalid reference format', ImageReferenceError],
    ['failed to resolve reference "r:1": pulling from host r failed with status code [manifests 1]: 401 Unauthorized', ImagePullError],
    ['dial tcp 127.0.0.1:1: connect: connection refused', ImagePullError],
  ])('classifies pull failure %s', (text, Cls) => {
    const e = classifyPullError('ref', new RuntimeCallError(`PullImage: ${text}`));
    expect(e).toBeInstanceOf(Cls);
    expect(e.message).toContain('pull ref');
  });

  it('keeps unavailable and timeout as they are for pulls', () => {
    const e = new RuntimeUnavailableError('PullImage: down');
    expect(classifyPullError('ref', e)).toBe(e);
  });
});
