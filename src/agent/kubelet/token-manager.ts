/**
 * The kubelet's ServiceAccount token manager (pkg/kubelet/token upstream) behind projected
 * `serviceAccountToken` volume sources: a token bound to the pod is requested from the server
 * (over the link, as the node) and cached; it is requested again once 80 % of its requested
 * lifetime has passed, or after 24 h, as upstream's requiresRefresh. Each answer says when to ask
 * again (`refreshAt`), and the pod's next sync is due by then (pod-sync.ts): the token in the pod
 * is renewed when it is due, not at the next periodic resync (60–90 s, kubelet.ts). A renewal that
 * failed (offline) is tried again after RETRY_MS.
 *
 * Offline the server cannot be asked: the last token is kept — the one cached, or after an agent
 * restart the one in the pod's volume. The kube-api-access tokens are valid for a year (the API
 * extends the kubelet's 3607 s request; src/server/auth/service-account-tokens.ts), so a pod keeps
 * a usable token through any realistic outage; one that expires while the node is offline stays
 * in place (the API, unreachable anyway, would refuse it) until the first sync after the link is
 * back replaces it. A pod that never had a token waits (FailedMount) until one can be fetched.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { TokenSource } from './volumes.ts';

/** What the link answers a token request with. */
export interface IssuedToken {
  readonly token: string;
}

export type RequestToken = (req: {
  namespace: string; serviceAccount: string; pod: { name: string; uid: string }; audiences: string[]; expirationSeconds: number;
}) => Promise<IssuedToken>;

const MAX_TTL_MS = 24 * 60 * 60 * 1000;
/** A renewal that failed (the link is down) is tried again this much later: the pod keeps its token meanwhile. */
const RETRY_MS = 10_000;
/** Cached tokens of pods that stopped asking (gone) are dropped after this long. */
const UNUSED_MS = 60 * 60 * 1000;

interface Cached {
  token: string;
  /** When to ask for a new one. */
  refreshAt: number;
  usedAt: number;
}

/** iat and exp of a JWT, in ms; undefined when it is not one. */
export function tokenTimes(token: string): { iat: number; exp: number } | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    return typeof c.iat === 'number' && typeof c.exp === 'number' ? { iat: c.iat * 1000, exp: c.exp * 1000 } : undefined;
  } catch {
    return undefined;
  }
}

function cached(token: string, expirationSeconds: number, now: number): Cached | undefined {
  const t = tokenTimes(token);
  if (!t) return undefined;
  const ttl = Math.min(expirationSeconds * 1000, t.exp - t.iat);
  return { token, refreshAt: t.iat + Math.min(MAX_TTL_MS, ttl * 0.8), usedAt: now };
}

export function createTokenManager(o: { request: RequestToken; log: Logger; now?: () => number }): TokenSource {
  const now = o.now ?? Date.now;
  const log = o.log.child({ component: 'token-manager' });
  const tokens = new Map<string, Cached>();

  return async (req) => {
    const t = now();
    for (const [k, c] of tokens) if (t - c.usedAt > UNUSED_MS) tokens.delete(k);
    const key = `${req.podUid}/${req.serviceAccountName}/${req.audience}/${req.expirationSeconds}`;
    let have = tokens.get(key);
    if (!have) {
      // After an agent restart: the token the pod already holds.
      const current = await req.current();
      have = current ? cached(current, req.expirationSeconds, t) : undefined;
    }
    if (have && t < have.refreshAt) {
      have.usedAt = t;
      tokens.set(key, have);
      return { token: have.token, refreshAt: have.refreshAt };
    }
    try {
      const issued = await o.request({
        namespace: req.namespace,
        serviceAccount: req.serviceAccountName,
        pod: { name: req.podName, uid: req.podUid },
        audiences: req.audience ? [req.audience] : [],
        expirationSeconds: req.expirationSeconds,
      });
      const next = cached(issued.token, req.expirationSeconds, t);
      if (!next) throw new Error('the server answered with a token that is not a JWT');
      tokens.set(key, next);
      return { token: next.token, refreshAt: next.refreshAt };
    } catch (err) {
      if (have) {
        // Offline (or refused): keep the token the pod has; the next sync asks again.
        log.debug({ pod: `${req.namespace}/${req.podName}`, err: errorMessage(err) }, 'cannot renew a ServiceAccount token: keeping the current one');
        have.usedAt = t;
        tokens.set(key, have);
        return { token: have.token, refreshAt: t + RETRY_MS };
      }
      throw err;
    }
  };
}
