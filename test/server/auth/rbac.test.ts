import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { createAuthorizer, forbiddenStatus, rbacKeys } from '../../../src/server/auth/index.ts';
import type { Authorizer, RequestAttributes } from '../../../src/server/auth/index.ts';
import { nonResource, resource, user } from './attrs.ts';

let store: Store;
let authz: Authorizer;

const put = (key: string, obj: unknown) => store.create(key, Buffer.from(JSON.stringify(obj)));
const subjectUser = (name: string) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name });
const roleRef = (kind: 'Role' | 'ClusterRole', name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:' });
  authz = createAuthorizer({ store, log: silentLogger() });
  await put(rbacKeys.clusterRole('pod-reader'), {
    kind: 'ClusterRole',
    metadata: { name: 'pod-reader' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
  });
  await put(rbacKeys.clusterRole('log-reader'), {
    metadata: { name: 'log-reader' },
    rules: [{ apiGroups: [''], resources: ['*/log'], verbs: ['get'] }],
  });
  await put(rbacKeys.clusterRole('metrics'), {
    metadata: { name: 'metrics' },
    rules: [{ nonResourceURLs: ['/metrics', '/debug/*'], verbs: ['get'] }],
  });
  await put(rbacKeys.clusterRoleBinding('alice-pods'), {
    metadata: { name: 'alice-pods' },
    subjects: [subjectUser('alice')],
    roleRef: roleRef('ClusterRole', 'pod-reader'),
  });
  await put(rbacKeys.clusterRoleBinding('ops-metrics'), {
    metadata: { name: 'ops-metrics' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'ops' }],
    roleRef: roleRef('ClusterRole', 'metrics'),
  });
  await put(rbacKeys.clusterRoleBinding('dangling'), {
    metadata: { name: 'dangling' },
    subjects: [subjectUser('carol')],
    roleRef: roleRef('ClusterRole', 'does-not-exist'),
  });
  await put(rbacKeys.role('dev', 'deployer'), {
    metadata: { name: 'deployer', namespace: 'dev' },
    rules: [
      { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['*'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'], verbs: ['get', 'update'] },
    ],
  });
  await put(rbacKeys.roleBinding('dev', 'bob-deployer'), {
    metadata: { name: 'bob-deployer', namespace: 'dev' },
    subjects: [subjectUser('bob')],
    roleRef: roleRef('Role', 'deployer'),
  });
  await put(rbacKeys.roleBinding('dev', 'sa-logs'), {
    metadata: { name: 'sa-logs', namespace: 'dev' },
    subjects: [{ kind: 'ServiceAccount', name: 'builder' }],
    roleRef: roleRef('ClusterRole', 'log-reader'),
  });
});
afterAll(() => store.close());

const allowed = async (a: RequestAttributes) => (await authz.authorize(a)).allowed;

describe('RBAC', () => {
  const alice = user('alice');
  const bob = user('bob');

  it('lets system:masters do anything', async () => {
    expect(await allowed(resource(user('root', 'system:masters'), 'delete', 'nodes', { name: 'n1' }))).toBe(true);
  });

  it('grants a ClusterRoleBinding in every namespace, for exactly its verbs and resources', async () => {
    expect(await allowed(resource(alice, 'list', 'pods', { namespace: 'default' }))).toBe(true);
    expect(await allowed(resource(alice, 'list', 'pods'))).toBe(true);
    expect(await allowed(resource(alice, 'delete', 'pods', { namespace: 'default', name: 'p' }))).toBe(false);
    expect(await allowed(resource(alice, 'list', 'pods', { apiGroup: 'apps' }))).toBe(false);
    expect(await allowed(resource(alice, 'list', 'secrets', { namespace: 'default' }))).toBe(false);
  });

  it('does not grant a subresource through its parent resource', async () => {
    expect(await allowed(resource(alice, 'get', 'pods', { namespace: 'x', name: 'p', subresource: 'log' }))).toBe(false);
  });

  it('matches */subresource for any resource', async () => {
    const sa = user('system:serviceaccount:dev:builder', 'system:serviceaccounts');
    expect(await allowed(resource(sa, 'get', 'pods', { namespace: 'dev', name: 'p', subresource: 'log' }))).toBe(true);
    expect(await allowed(resource(sa, 'get', 'pods', { namespace: 'dev', name: 'p' }))).toBe(false);
    expect(await allowed(resource(sa, 'get', 'pods', { namespace: 'prod', name: 'p', subresource: 'log' }))).toBe(false);
  });

  it('confines a RoleBinding to its namespace, with * verbs and named subresources', async () => {
    expect(await allowed(resource(bob, 'patch', 'deployments', { apiGroup: 'apps', namespace: 'dev', name: 'web' }))).toBe(true);
    expect(await allowed(resource(bob, 'update', 'deployments', { apiGroup: 'apps', namespace: 'dev', name: 'web', subresource: 'scale' }))).toBe(true);
    expect(await allowed(resource(bob, 'patch', 'deployments', { apiGroup: 'apps', namespace: 'prod', name: 'web' }))).toBe(false);
    expect(await allowed(resource(bob, 'update', 'deployments', { apiGroup: 'apps', namespace: 'dev', name: 'web', subresource: 'status' }))).toBe(false);
  });

  it('honours resourceNames', async () => {
    expect(await allowed(resource(bob, 'get', 'configmaps', { namespace: 'dev', name: 'app-config' }))).toBe(true);
    expect(await allowed(resource(bob, 'get', 'configmaps', { namespace: 'dev', name: 'other' }))).toBe(false);
    expect(await allowed(resource(bob, 'list', 'configmaps', { namespace: 'dev' }))).toBe(false);
  });

  it('matches groups and non-resource URLs with a trailing *', async () => {
    const op = user('dana', 'ops');
    expect(await allowed(nonResource(op, 'get', '/metrics'))).toBe(true);
    expect(await allowed(nonResource(op, 'get', '/debug/pprof/heap'))).toBe(true);
    expect(await allowed(nonResource(op, 'post', '/metrics'))).toBe(false);
    expect(await allowed(nonResource(alice, 'get', '/metrics'))).toBe(false);
  });

  it('lets every authenticated user use discovery, health and version (bootstrap policy)', async () => {
    for (const p of ['/api', '/api/v1', '/apis/apps/v1', '/openapi/v3', '/version', '/healthz']) {
      expect(await allowed(nonResource(alice, 'get', p))).toBe(true);
    }
    expect(await allowed(resource(alice, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))).toBe(true);
    expect(await allowed(nonResource({ name: 'x', groups: [] }, 'get', '/api'))).toBe(false);
  });

  it('explains an allow', async () => {
    const d = await authz.authorize(resource(alice, 'get', 'pods', { namespace: 'default', name: 'p' }));
    expect(d.reason).toBe('RBAC: allowed by ClusterRoleBinding "alice-pods" of ClusterRole "pod-reader" to User "alice"');
  });

  it('denies with the apiserver wording', async () => {
    const list = resource(user('bob'), 'list', 'pods', { namespace: 'default' });
    const d = await authz.authorize(list);
    expect(d).toEqual({ allowed: false, reason: '' });
    expect(forbiddenStatus(list, d.reason)).toEqual({
      message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
      details: { kind: 'pods' },
    });
    const get = resource(user('bob'), 'get', 'deployments', { apiGroup: 'apps', namespace: 'prod', name: 'web', subresource: 'scale' });
    expect(forbiddenStatus(get, '').message).toBe(
      'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments/scale" in API group "apps" in the namespace "prod"',
    );
    expect(forbiddenStatus(resource(user('bob'), 'list', 'nodes'), '').message).toBe(
      'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope',
    );
    expect(forbiddenStatus(nonResource(user('bob'), 'get', '/metrics'), '').message).toBe(
      'forbidden: User "bob" cannot get path "/metrics"',
    );
  });

  it('names a missing role in the deny reason', async () => {
    const a = resource(user('carol'), 'get', 'pods', { namespace: 'default', name: 'p' });
    const d = await authz.authorize(a);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('RBAC: clusterrole.rbac.authorization.k8s.io "does-not-exist" not found');
    expect(forbiddenStatus(a, d.reason).message).toBe(
      'pods "p" is forbidden: User "carol" cannot get resource "pods" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "does-not-exist" not found',
    );
  });

  it('knows the default user-facing roles view, edit, admin and cluster-admin', async () => {
    const bind = (name: string, user: string, role: string, ns = 'team') =>
      put(rbacKeys.roleBinding(ns, name), { metadata: { name, namespace: ns }, subjects: [subjectUser(user)], roleRef: roleRef('ClusterRole', role) });
    await bind('v', 'viewer', 'view');
    await bind('e', 'editor', 'edit');
    await bind('a', 'nsadmin', 'admin');
    await bind('c', 'nsroot', 'cluster-admin');
    const can = (who: string, verb: string, res: string, o: Parameters<typeof resource>[3] = {}) =>
      allowed(resource(user(who), verb, res, { namespace: 'team', ...o }));

    expect(await can('viewer', 'list', 'pods')).toBe(true);
    expect(await can('viewer', 'get', 'pods', { name: 'p', subresource: 'log' })).toBe(true);
    expect(await can('viewer', 'watch', 'deployments', { apiGroup: 'apps' })).toBe(true);
    expect(await can('viewer', 'get', 'secrets', { name: 's' })).toBe(false);
    expect(await can('viewer', 'delete', 'pods', { name: 'p' })).toBe(false);

    expect(await can('editor', 'delete', 'pods', { name: 'p' })).toBe(true);
    expect(await can('editor', 'create', 'pods', { name: 'p', subresource: 'exec' })).toBe(true);
    expect(await can('editor', 'get', 'secrets', { name: 's' })).toBe(true);
    expect(await can('editor', 'patch', 'deployments', { apiGroup: 'apps', name: 'd', subresource: 'scale' })).toBe(true);
    expect(await can('editor', 'list', 'pods')).toBe(true);
    expect(await can('editor', 'create', 'rolebindings', { apiGroup: 'rbac.authorization.k8s.io' })).toBe(false);

    expect(await can('nsadmin', 'create', 'rolebindings', { apiGroup: 'rbac.authorization.k8s.io' })).toBe(true);
    expect(await can('nsadmin', 'delete', 'configmaps', { name: 'c' })).toBe(true);
    expect(await can('nsadmin', 'list', 'pods', { namespace: 'other' })).toBe(false);

    expect(await can('nsroot', 'delete', 'widgets', { apiGroup: 'example.com', name: 'w' })).toBe(true);
    expect(await allowed(resource(user('nsroot'), 'list', 'nodes'))).toBe(false); // a RoleBinding stays in its namespace
  });

  it('aggregates ClusterRoles by label, as the aggregation controller would', async () => {
    await put(rbacKeys.clusterRole('widget-viewer'), {
      metadata: { name: 'widget-viewer', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] }],
    });
    await put(rbacKeys.roleBinding('shop', 'frank-view'), {
      metadata: { name: 'frank-view', namespace: 'shop' }, subjects: [subjectUser('frank')], roleRef: roleRef('ClusterRole', 'view'),
    });
    const frank = user('frank');
    expect(await allowed(resource(frank, 'list', 'widgets', { apiGroup: 'example.com', namespace: 'shop' }))).toBe(true);
    expect(await allowed(resource(frank, 'list', 'pods', { namespace: 'shop' }))).toBe(true);

    await put(rbacKeys.clusterRole('monitoring'), {
      metadata: { name: 'monitoring' },
      aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'team', operator: 'In', values: ['obs', 'sre'] }] }] },
      rules: [],
    });
    await put(rbacKeys.clusterRole('obs-nodes'), { metadata: { name: 'obs-nodes', labels: { team: 'obs' } }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] });
    await put(rbacKeys.clusterRole('dev-secrets'), { metadata: { name: 'dev-secrets', labels: { team: 'dev' } }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] });
    await put(rbacKeys.clusterRoleBinding('gina-monitoring'), { metadata: { name: 'gina-monitoring' }, subjects: [subjectUser('gina')], roleRef: roleRef('ClusterRole', 'monitoring') });
    expect(await allowed(resource(user('gina'), 'list', 'nodes'))).toBe(true);
    expect(await allowed(resource(user('gina'), 'list', 'secrets', { namespace: 'x' }))).toBe(false);
  });

  it('prefers a stored ClusterRole over the built-in one of the same name', async () => {
    await put(rbacKeys.clusterRole('system:basic-user'), { metadata: { name: 'system:basic-user' }, rules: [] });
    try {
      expect(await allowed(resource(alice, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))).toBe(false);
    } finally {
      await store.delete(rbacKeys.clusterRole('system:basic-user'));
    }
    expect(await allowed(resource(alice, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))).toBe(true);
  });

  it('sees bindings created after it was built (no stale cache)', async () => {
    const erin = user('erin');
    expect(await allowed(resource(erin, 'get', 'pods', { namespace: 'a', name: 'p' }))).toBe(false);
    await put(rbacKeys.clusterRoleBinding('erin'), { metadata: { name: 'erin' }, subjects: [subjectUser('erin')], roleRef: roleRef('ClusterRole', 'pod-reader') });
    expect(await allowed(resource(erin, 'get', 'pods', { namespace: 'a', name: 'p' }))).toBe(true);
  });
});
