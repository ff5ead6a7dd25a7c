// Bearer-token authentication (`Authorization: Bearer <token>`, which kubectl sends for a
// kubeconfig `token:`): edgeos's own "<id>.<secret>" tokens against the hashed tokens in the store,
// and ServiceAccount JWTs (service-account-tokens.ts).
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';
import { authenticateServiceAccountToken, isJwt } from './service-account-tokens.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';
import { parseToken, readToken, secretMatches } from './tokens.ts';
import type { AuthenticationResult } from './types.ts';

/** The token of an Authorization header, or undefined when there is none (not a Bearer header). */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  // apiserver matches the scheme case-insensitively and ignores non-bearer schemes.
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export async function authenticateBearerToken(
  req: IncomingMessage,
  store: Store,
  now: () => Date = () => new Date(),
  serviceAccounts?: { tokens: ServiceAccountTokens; log: Logger },
): Promise<AuthenticationResult> {
  const token = bearerToken(req);
  if (token === undefined) return { kind: 'anonymous' };
  if (serviceAccounts && isJwt(token)) return authenticateServiceAccountToken(token, serviceAccounts.tokens, store, serviceAccounts.log);
  const parsed = parseToken(token);
  if (!parsed) return { kind: 'rejected', reason: 'bearer token is not an edgeos token' };
  const record = await readToken(store, parsed.id);
  if (!record || !secretMatches(record, parsed.secret)) return { kind: 'rejected', reason: `bearer token ${parsed.id} is not valid` };
  // The store's TTL removes expired tokens lazily; this closes the gap until it does.
  if (record.expiresAt && Date.parse(record.expiresAt) <= now().getTime()) {
    return { kind: 'rejected', reason: `bearer token ${parsed.id} expired at ${record.expiresAt}` };
  }
  return {
    kind: 'user',
    user: { name: record.user, ...(record.uid ? { uid: record.uid } : {}), groups: [...record.groups] },
  };
}
