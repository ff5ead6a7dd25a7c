// The Node authorizer's pod index — the link feed hub's, fed by its one watch: reference checks
// answered from it with one point read, refusals without a namespace scan once it has caught up
// with the store, and nothing granted on what the index holds that the store no longer says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { createAuthorizer, nodeAuthzKeys } from '../../../src/server/auth/index.ts';
import type { Authorizer, NodePods } from '../../../src/server/auth/index.ts';
import { FeedHub } from '../../../src/server/link/feed-hub.ts';
import { resource, user } from './attrs.ts';

let store: Store;
let hub: FeedHub;
let index: NodePods;
let authz: Authorizer;
/** Lists of pods under a namespace (the scan), counted. */
let scans = 0;
const gw1 = user('system:node:gw-1', 'system:nodes');
const gw2 = user('system:node:gw-2', 'system:nodes');
const put = (key: string, obj: unknown) => store.create(key, Buffer.from(JSON.stringify(obj)));
const pod = (name: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace: 'shop', uid: `uid-${name}` }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } });
const token = (u: typeof gw1, sa: string) => resource(u, 'create', 'serviceaccounts', { namespace: 'shop', name: sa, subresource: 'token' });
const secret = (u: typeof gw1, name: string) => resource(u, 'get', 'secrets', { namespace: 'shop', name });

/** `store` with its namespace-scoped pod lists counted. */
function counting(s: Store): Store {
  return new Proxy(s, {
    get(target, prop, receiver) {
      if (prop === 'list') {
        return (prefix: string, opts?: unknown) => {
          if (prefix.startsWith(nodeAuthzKeys.allPods()) && prefix !== nodeAuthzKeys.allPods()) scans++;
          return target.list(prefix, opts as never);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:' });
  await put(nodeAuthzKeys.pod('shop', 'web'), pod('web', { nodeName: 'gw-1', serviceAccountName: 'web-sa', volumes: [{ name: 's', secret: { secretName: 'web-tls' } }] }));
  await put(nodeAuthzKeys.pod('shop', 'other'), pod('other', { nodeName: 'gw-2', serviceAccountName: 'other-sa', volumes: [{ name: 's', secret: { secretName: 'gw2-only' } }] }));
  await put(nodeAuthzKeys.pod('shop', 'pending'), pod('pending', { serviceAccountName: 'pending-sa' }));
  const counted = counting(store);
  hub = new FeedHub({ store: counted, log: silentLogger() });
  index = hub.nodePods;
  authz = createAuthorizer({ store: counted, log: silentLogger(), nodePods: index });
  // The hub's watch starts on its first use; this waits until it has listed and caught up.
  expect(await index.through(await store.currentRevision(), 5000)).toBe(true);
});
afterAll(async () => {
  hub.close();
  await store.close();
});

describe('Node authorizer with its pod index', () => {
  it('answers a bound pod\'s token and secret from the index, without scanning the namespace', async () => {
    scans = 0;
    expect((await authz.authorize(token(gw1, 'web-sa'))).allowed).toBe(true);
    expect((await authz.authorize(secret(gw1, 'web-tls'))).allowed).toBe(true);
    expect((await authz.authorize(token(gw2, 'other-sa'))).allowed).toBe(true);
    expect(scans).toBe(0);
  });

  it('refuses what no pod bound to the node references, without scanning the namespace either', async () => {
    scans = 0;
    expect((await authz.authorize(token(gw1, 'other-sa'))).allowed).toBe(false);
    expect((await authz.authorize(secret(gw1, 'gw2-only'))).allowed).toBe(false);
    expect((await authz.authorize(token(gw2, 'web-sa'))).allowed).toBe(false);
    // An unscheduled pod's account is nobody's.
    expect((await authz.authorize(token(gw1, 'pending-sa'))).allowed).toBe(false);
    expect((await authz.authorize(token(gw1, 'default'))).allowed).toBe(false);
    expect(scans).toBe(0);
  });

  it('grants a pod bound a moment ago that the hub has not routed yet: the check waits for the index to reach the store', async () => {
    await put(nodeAuthzKeys.pod('shop', 'fresh'), pod('fresh', { nodeName: 'gw-2', serviceAccountName: 'fresh-sa' }));
    scans = 0;
    // No wait for the watch: the write is at most in the store.
    expect((await authz.authorize(token(gw2, 'fresh-sa'))).allowed).toBe(true);
    expect((await authz.authorize(token(gw1, 'fresh-sa'))).allowed).toBe(false);
    expect(scans).toBe(0);
  });

  it('grants nothing for a pod moved to another node while the index still names the old one', async () => {
    // `moved` is bound to gw-1 and known to the index; it is deleted and created again on gw-2,
    // and the check comes before the hub has routed either write (so the index still says gw-1).
    const key = nodeAuthzKeys.pod('shop', 'moved');
    await put(key, pod('moved', { nodeName: 'gw-1', serviceAccountName: 'moved-sa' }));
    await until(() => index.candidates('gw-1', 'shop', 'serviceaccounts', 'moved-sa').length === 1);
    await store.delete(key);
    await put(key, pod('moved', { nodeName: 'gw-2', serviceAccountName: 'moved-sa' }));
    expect((await authz.authorize(token(gw1, 'moved-sa'))).allowed).toBe(false);
    expect((await authz.authorize(token(gw2, 'moved-sa'))).allowed).toBe(true);
    await until(() => index.candidates('gw-1', 'shop', 'serviceaccounts', 'moved-sa').length === 0);
    expect(index.candidates('gw-2', 'shop', 'serviceaccounts', 'moved-sa')).toEqual([key]);
  });

  it('follows binding and deletion through its watch', async () => {
    const key = nodeAuthzKeys.pod('shop', 'pending');
    const kv = (await store.get(key))!;
    const bound = JSON.parse(kv.value.toString('utf8')) as { spec: Record<string, unknown> };
    bound.spec.nodeName = 'gw-1';
    await store.update(key, Buffer.from(JSON.stringify(bound)), { expectedModRevision: kv.modRevision });
    await until(() => index.candidates('gw-1', 'shop', 'serviceaccounts', 'pending-sa').length === 1);
    scans = 0;
    expect((await authz.authorize(token(gw1, 'pending-sa'))).allowed).toBe(true);
    expect(scans).toBe(0);
    expect(index.candidates('gw-2', 'shop', 'serviceaccounts', 'pending-sa')).toEqual([]);

    await store.delete(key);
    // The store decides at once, whether or not the watch has delivered the deletion yet.
    expect((await authz.authorize(token(gw1, 'pending-sa'))).allowed).toBe(false);
    await until(() => index.candidates('gw-1', 'shop', 'serviceaccounts', 'pending-sa').length === 0);
  });

  it('grants nothing on an index that is wrong: each candidate is confirmed in the store', async () => {
    // An index that names gw-2's pod as gw-1's (stale, or wrong) and says it is complete: refused.
    const lying: NodePods = { candidates: () => [nodeAuthzKeys.pod('shop', 'other')], through: async () => true };
    const a = createAuthorizer({ store, log: silentLogger(), nodePods: lying });
    expect((await a.authorize(token(gw1, 'other-sa'))).allowed).toBe(false);
    expect((await a.authorize(secret(gw1, 'gw2-only'))).allowed).toBe(false);
    // An index that has not heard of a pod and cannot say how far it is: the namespace scan finds it.
    const behind: NodePods = { candidates: () => [], through: async () => false };
    const b = createAuthorizer({ store: counting(store), log: silentLogger(), nodePods: behind });
    scans = 0;
    expect((await b.authorize(token(gw1, 'web-sa'))).allowed).toBe(true);
    expect(scans).toBe(1);
  });
});
