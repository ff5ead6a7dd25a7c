import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../src/server/api/request-info.ts';

const p = (method: string, path: string) => parseRequest(method, new URL(path, 'https://x'));

describe('request info', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods', { verb: 'list', group: '', version: 'v1', resource: 'pods', namespace: 'default', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods?watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/watch/namespaces/default/pods', { verb: 'watch', resource: 'pods', namespace: 'default' }],
    ['GET', '/api/v1/namespaces/default/pods/web/log', { verb: 'get', resource: 'pods', name: 'web', subresource: 'log' }],
    ['GET', '/api/v1/namespaces/default', { verb: 'get', resource: 'namespaces', name: 'default', namespace: '' }],
    ['PUT', '/api/v1/namespaces/t1/finalize', { verb: 'update', resource: 'namespaces', name: 't1', subresource: 'finalize' }],
    ['PATCH', '/apis/apps/v1/namespaces/d/deployments/web/scale', { verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale' }],
    ['DELETE', '/apis/apps/v1/namespaces/d/deployments', { verb: 'deletecollection' }],
    ['POST', '/api/v1/namespaces/d/pods/web/eviction', { verb: 'create', subresource: 'eviction' }],
    ['GET', '/apis/apps/v1', { verb: 'discovery', resource: '' }],
    ['GET', '/api/v1/nodes', { verb: 'list', resource: 'nodes', namespace: '' }],
  ])('%s %s', (method, path, want) => {
    const info = p(method, path);
    expect(info.kind).toBe('resource');
    expect(info).toMatchObject(want);
  });

  it('treats an encoded slash as a separator, never as part of a name', () => {
    expect(p('GET', '/api/v1/namespaces/a%2Fpods/b')).toMatchObject({ namespace: 'a', resource: 'pods', name: 'b' });
    expect(p('GET', '/api/v1/namespaces/default/pods/x%2Fstatus')).toMatchObject({ name: 'x', subresource: 'status' });
  });

  it('classifies discovery and non-resource paths', () => {
    expect(p('GET', '/api')).toEqual({ kind: 'discovery', path: '/api', group: '' });
    expect(p('GET', '/apis/')).toEqual({ kind: 'discovery', path: '/apis', group: '' });
    expect(p('GET', '/apis/apps')).toEqual({ kind: 'discovery', path: '/apis/apps', group: 'apps' });
    expect(p('GET', '/openapi/v3')).toEqual({ kind: 'nonresource', path: '/openapi/v3' });
  });
});
