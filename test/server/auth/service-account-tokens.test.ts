// ServiceAccount JWTs: what a token carries, when it verifies, and that deleting what it is bound
// to revokes it at once (a real SQLite store).
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { createAuthenticator, createServiceAccountTokens, KUBELET_TOKEN_EXPIRATION_SECONDS, nodeAuthzKeys } from '../../../src/server/auth/index.ts';
import type { CredentialAuthenticator } from '../../../src/server/auth/index.ts';
import { storageSegment } from '../../../src/server/registry/index.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';

const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
let clock = new Date('2026-01-01T00:00:00Z');
const tokens = createServiceAccountTokens({ ...keys, clusterDomain: 'cluster.local', now: () => clock });
const sa = { name: 'app', uid: 'sa-uid' };
const pod = { name: 'web', uid: 'pod-uid' };
let store: Store;
let authn: CredentialAuthenticator;

const saKey = `/registry/${storageSegment('', 'serviceaccounts')}/shop/app`;
const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, socket: {} }) as unknown as IncomingMessage;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:' });
  await store.create(saKey, Buffer.from(JSON.stringify({ metadata: { name: 'app', namespace: 'shop', uid: 'sa-uid' } })));
  await store.create(nodeAuthzKeys.pod('shop', 'web'), Buffer.from(JSON.stringify({ metadata: { name: 'web', namespace: 'shop', uid: 'pod-uid' } })));
  authn = createAuthenticator({ store, log: silentLogger(), serviceAccountTokens: tokens, now: () => clock });
});
afterAll(() => store.close());

describe('ServiceAccount tokens', () => {
  it('carry upstream claims and authenticate as the ServiceAccount', async () => {
    const { token, expiresAt } = tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 3600, pod });
    const c = claimsOf(token);
    expect(c).toMatchObject({
      iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:shop:app', aud: ['https://kubernetes.default.svc.cluster.local'],
      'kubernetes.io': { namespace: 'shop', serviceaccount: sa, pod },
    });
    expect(c.exp).toBe(Date.parse('2026-01-01T01:00:00Z') / 1000);
    expect(expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(await authn.identify(request(token))).toEqual({
      kind: 'user',
      user: { name: 'system:serviceaccount:shop:app', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] },
    });
  });

  it("extends the kubelet's 3607 s tokens to a year, warning after the hour", () => {
    const { token, expiresAt } = tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: KUBELET_TOKEN_EXPIRATION_SECONDS, pod });
    const c = claimsOf(token) as { iat: number; exp: number; 'kubernetes.io': { warnafter: number } };
    expect(c.exp - c.iat).toBe(365 * 24 * 3600);
    expect(c['kubernetes.io'].warnafter - c.iat).toBe(3607);
    expect(expiresAt.getTime() / 1000 - c.iat).toBe(3607);
    // Not for other audiences.
    const other = claimsOf(tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: ['vault'], expirationSeconds: KUBELET_TOKEN_EXPIRATION_SECONDS, pod }).token) as { iat: number; exp: number };
    expect(other.exp - other.iat).toBe(3607);
  });

  it('rejects expired, foreign, tampered and other-audience tokens', async () => {
    const fresh = () => tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 600 }).token;
    const t = fresh();
    clock = new Date(clock.getTime() + 601_000);
    expect(await authn.identify(request(t))).toEqual({ kind: 'rejected', reason: 'an expired token' });
    const foreign = createServiceAccountTokens({ ...generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), clusterDomain: 'cluster.local', now: () => clock });
    expect(await authn.identify(request(foreign.issue({ namespace: 'shop', serviceAccount: sa, audiences: foreign.apiAudiences, expirationSeconds: 600 }).token))).toMatchObject({ kind: 'rejected', reason: 'a JWT not signed by this cluster' });
    const [h, p, s] = fresh().split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
    expect(await authn.identify(request(`${h}.${forged}.${s}`))).toMatchObject({ kind: 'rejected' });
    expect(await authn.identify(request(tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: ['vault'], expirationSeconds: 600 }).token))).toEqual({ kind: 'rejected', reason: 'a token for another audience' });
  });

  it('is revoked when its pod or its ServiceAccount goes', async () => {
    const bound = tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 3600, pod }).token;
    expect((await authn.identify(request(bound))).kind).toBe('user');
    await store.delete(nodeAuthzKeys.pod('shop', 'web'));
    expect(await authn.identify(request(bound))).toEqual({ kind: 'rejected', reason: "the token's pod shop/web no longer exists" });
    const unbound = tokens.issue({ namespace: 'shop', serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 3600 }).token;
    expect((await authn.identify(request(unbound))).kind).toBe('user');
    await store.delete(saKey);
    await store.create(saKey, Buffer.from(JSON.stringify({ metadata: { name: 'app', namespace: 'shop', uid: 'a-new-uid' } })));
    expect(await authn.identify(request(unbound))).toEqual({ kind: 'rejected', reason: "the token's ServiceAccount shop/app no longer exists" });
  });
});
