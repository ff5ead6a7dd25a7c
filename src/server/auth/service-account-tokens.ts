// Bound ServiceAccount tokens: the JWTs kube-apiserver issues through TokenRequest
// (pkg/serviceaccount/claims.go, jwt.go) and authenticates as system:serviceaccount:<ns>:<name>.
// Signed ES256 with the server's service-account key (src/server/pki/service-account-key.ts).
// The claims are upstream's, so a token looks the same to tools that decode it: iss, sub, aud,
// exp, iat, nbf, jti and the private "kubernetes.io" claim naming the namespace, the
// ServiceAccount, the pod (and its node) the token is bound to, and `warnafter`.
//
// A token is valid while its signature, issuer, audience and expiry hold AND the objects it is
// bound to still exist with the same uid: deleting the pod (or the ServiceAccount) revokes it at
// once, as upstream's legacy-free validator does. The store is read for that on every request
// that presents one (two point reads).
import { createHash, randomUUID, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';
import { storageSegment } from '../registry/index.ts';
import { readStoredJson } from '../storage/read.ts';
import type { AuthenticationResult, UserInfo } from './types.ts';

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

/**
 * The expiry the kubelet asks for its `kube-api-access-*` volume (upstream's
 * WarnOnlyBoundTokenExpirationSeconds): such a token is issued for a year instead (apiserver's
 * --service-account-extend-token-expiration, on by default) with `warnafter` at the hour, so a
 * pod keeps working while its node cannot refresh it — and an edge node is often offline.
 */
export const KUBELET_TOKEN_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 60 * 60;
/** A clock this far ahead of ours still accepts a token (jwt.DefaultLeeway). */
const LEEWAY_SECONDS = 60;

export interface ObjectRef {
  readonly name: string;
  readonly uid: string;
}

export interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly nbf: number;
  readonly jti: string;
  readonly 'kubernetes.io': {
    readonly namespace: string;
    readonly serviceaccount: ObjectRef;
    readonly pod?: ObjectRef;
    readonly node?: ObjectRef;
    readonly warnafter?: number;
  };
}

export interface TokenIssue {
  readonly namespace: string;
  readonly serviceAccount: ObjectRef;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly pod?: ObjectRef;
  readonly node?: ObjectRef;
}

export interface ServiceAccountTokens {
  /** https://kubernetes.default.svc.<cluster domain>: the `iss` of every token. */
  readonly issuer: string;
  /** What the API itself accepts as `aud` (apiserver's --api-audiences: the issuer). */
  readonly apiAudiences: readonly string[];
  /** Signs a token; `expiresAt` is what TokenRequest reports (the requested expiry, also when extended). */
  issue(req: TokenIssue): { token: string; expiresAt: Date };
  /** Signature, issuer, audience and time checks; the bound objects are checked by the authenticator. */
  verify(token: string): { ok: true; claims: TokenClaims } | { ok: false; reason: string };
}

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Looks like a JWT: three base64url parts. Our own "<id>.<secret>" tokens have two. */
export function isJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

export function createServiceAccountTokens(o: { privateKey: KeyObject; publicKey: KeyObject; clusterDomain: string; now?: () => Date }): ServiceAccountTokens {
  const now = o.now ?? (() => new Date());
  const issuer = `https://kubernetes.default.svc.${o.clusterDomain}`;
  const apiAudiences = [issuer];
  // kube-apiserver's key id: a hash of the public key, so verifiers can pick the key.
  const kid = createHash('sha256').update(o.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  const header = b64({ alg: 'ES256', kid });

  function issue(req: TokenIssue): { token: string; expiresAt: Date } {
    const iat = Math.floor(now().getTime() / 1000);
    const extend = req.pod !== undefined && req.expirationSeconds === KUBELET_TOKEN_EXPIRATION_SECONDS && req.audiences.every((a) => apiAudiences.includes(a));
    const claims: TokenClaims = {
      aud: [...req.audiences],
      exp: iat + (extend ? EXTENDED_EXPIRATION_SECONDS : req.expirationSeconds),
      iat,
      iss: issuer,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: req.namespace,
        ...(req.node ? { node: req.node } : {}),
        ...(req.pod ? { pod: req.pod } : {}),
        serviceaccount: req.serviceAccount,
        ...(extend ? { warnafter: iat + req.expirationSeconds } : {}),
      },
      nbf: iat,
      sub: `${SERVICE_ACCOUNT_USER_PREFIX}${req.namespace}:${req.serviceAccount.name}`,
    };
    const input = `${header}.${b64(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key: o.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return { token: `${input}.${signature}`, expiresAt: new Date((iat + req.expirationSeconds) * 1000) };
  }

  function verifyToken(token: string): { ok: true; claims: TokenClaims } | { ok: false; reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
    const [h, p, s] = parts as [string, string, string];
    let head: { alg?: unknown };
    let claims: TokenClaims;
    try {
      head = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'a JWT that does not decode' };
    }
    if (head.alg !== 'ES256') return { ok: false, reason: `a JWT signed with ${String(head.alg)}, not ES256` };
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key: o.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) {
      return { ok: false, reason: 'a JWT not signed by this cluster' };
    }
    if (claims.iss !== issuer) return { ok: false, reason: `a token of issuer ${String(claims.iss)}` };
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => apiAudiences.includes(a))) return { ok: false, reason: 'a token for another audience' };
    const t = now().getTime() / 1000;
    if (typeof claims.exp !== 'number' || t >= claims.exp) return { ok: false, reason: 'an expired token' };
    if (typeof claims.nbf === 'number' && t + LEEWAY_SECONDS < claims.nbf) return { ok: false, reason: 'a token not valid yet' };
    const k = claims['kubernetes.io'];
    if (!k || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string') return { ok: false, reason: 'a token without its ServiceAccount' };
    if (claims.sub !== `${SERVICE_ACCOUNT_USER_PREFIX}${k.namespace}:${k.serviceaccount.name}`) return { ok: false, reason: 'a token whose subject is not its ServiceAccount' };
    return { ok: true, claims };
  }

  return { issuer, apiAudiences, issue, verify: verifyToken };
}

/** The user a ServiceAccount acts as (serviceaccount.UserInfo upstream). */
export function serviceAccountUser(namespace: string, name: string, uid: string | undefined): UserInfo {
  return {
    name: `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`,
    ...(uid ? { uid } : {}),
    groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`],
  };
}

const key = (plural: string, ns: string, name: string) => `/registry/${storageSegment('', plural)}/${ns}/${name}`;

interface Meta {
  metadata?: { uid?: string; deletionTimestamp?: string };
}

/** A presented JWT → the ServiceAccount's user, if it verifies and what it is bound to still exists. */
export async function authenticateServiceAccountToken(token: string, tokens: ServiceAccountTokens, store: Store, log: Logger): Promise<AuthenticationResult> {
  const v = tokens.verify(token);
  if (!v.ok) return { kind: 'rejected', reason: v.reason };
  const k = v.claims['kubernetes.io'];
  const sa = await readStoredJson<Meta>(store, log, key('serviceaccounts', k.namespace, k.serviceaccount.name));
  if (!sa || sa.metadata?.uid !== k.serviceaccount.uid) {
    return { kind: 'rejected', reason: `the token's ServiceAccount ${k.namespace}/${k.serviceaccount.name} no longer exists` };
  }
  if (k.pod) {
    const pod = await readStoredJson<Meta>(store, log, key('pods', k.namespace, k.pod.name));
    if (!pod || pod.metadata?.uid !== k.pod.uid) return { kind: 'rejected', reason: `the token's pod ${k.namespace}/${k.pod.name} no longer exists` };
  }
  return { kind: 'user', user: serviceAccountUser(k.namespace, k.serviceaccount.name, k.serviceaccount.uid) };
}
