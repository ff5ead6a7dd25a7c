// apiserver's request labels for each kind of request (src/server/api/observe.ts), table-driven.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestLabels } from '../../../src/server/api/observe.ts';
import { parseRequest, requestUrl } from '../../../src/server/api/request-info.ts';
import { ResourceRegistry } from '../../../src/server/registry/index.ts';
import { storeType } from '../../../src/server/metrics/store-metrics.ts';

const registry = new ResourceRegistry();

function labels(method: string, path: string, headers: Record<string, string> = {}, upgrade = false) {
  const url = requestUrl(path);
  const req = { method, headers } as unknown as IncomingMessage;
  return requestLabels(registry, req, url, parseRequest(method, url), upgrade);
}

describe('request labels', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods', {}, { verb: 'LIST', resource: 'pods', scope: 'namespace' }],
    ['GET', '/api/v1/pods?watch=1', {}, { verb: 'WATCH', resource: 'pods', scope: 'cluster' }],
    ['GET', '/api/v1/namespaces/default/pods/web', {}, { verb: 'GET', resource: 'pods', scope: 'resource' }],
    ['POST', '/apis/apps/v1/namespaces/default/deployments', {}, { verb: 'POST', group: 'apps', resource: 'deployments', scope: 'resource' }],
    ['PUT', '/api/v1/namespaces/default/pods/web/status', {}, { verb: 'PUT', resource: 'pods', subresource: 'status' }],
    ['PATCH', '/api/v1/nodes/n1', { 'content-type': 'application/apply-patch+yaml' }, { verb: 'APPLY', resource: 'nodes', scope: 'resource' }],
    ['PATCH', '/api/v1/nodes/n1', { 'content-type': 'application/merge-patch+json' }, { verb: 'PATCH' }],
    ['DELETE', '/api/v1/namespaces/default/configmaps', {}, { verb: 'DELETECOLLECTION', scope: 'namespace' }],
    ['GET', '/api/v1/nodes/n1/proxy/metrics', {}, { verb: 'CONNECT', resource: 'nodes', subresource: 'proxy' }],
    ['GET', '/api/v1/namespaces/default/pods/web/log', {}, { verb: 'GET', resource: 'pods', subresource: 'log' }],
    ['POST', '/api/v1/namespaces/default/pods/web/status?dryRun=All', {}, { verb: 'POST', dryRun: true }],
    ['GET', '/metrics', {}, { verb: 'GET', group: '', version: '', resource: '', scope: '' }],
    ['GET', '/apis/apps/v1', {}, { verb: 'GET', resource: '', scope: '' }],
    // Not served: the verb and scope stay, the caller's words do not become label values.
    ['GET', '/api/v1/namespaces/default/made-up-12345', {}, { verb: 'LIST', group: '', version: '', resource: '', scope: 'namespace' }],
    ['GET', '/apis/example.com/v9/widgets', {}, { verb: 'LIST', group: '', version: '', resource: '' }],
    ['GET', '/api/v1/namespaces/default/pods/web/made-up', {}, { verb: 'GET', resource: 'pods', subresource: '' }],
  ] as const)('%s %s', (method, path, headers, want) => {
    expect(labels(method, path, headers)).toMatchObject(want);
  });

  it('an upgrade (exec, attach, port-forward) is a CONNECT', () => {
    expect(labels('GET', '/api/v1/namespaces/default/pods/web/exec?command=sh', {}, true)).toMatchObject({ verb: 'CONNECT', resource: 'pods', subresource: 'exec', scope: 'resource' });
  });
});

describe('store type', () => {
  it.each([
    ['/registry/pods/default/web', 'pods'],
    ['/registry/leases.coordination.k8s.io/kube-node-lease/n1', 'leases.coordination.k8s.io'],
    ['/registry/nodes/', 'nodes'],
    ['/registry/', ''],
    ['/other', ''],
  ])('%s → %j', (key, type) => expect(storeType(key)).toBe(type));
});
