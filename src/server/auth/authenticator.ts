// The request authenticator: client certificate first, then bearer token, as apiserver's union
// authenticator orders them. The first that succeeds decides; if none succeeds but one saw a
// credential the request is rejected (401); with no credential at all it is anonymous.
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';
import type { InProcessIdentities } from './in-process.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';
import { authenticateLoopback } from './loopback.ts';
import { authenticateBearerToken } from './token-authenticator.ts';
import type { AuthenticationResult, CredentialAuthenticator, UserInfo } from './types.ts';
import { authenticateClientCertificate } from './x509-authenticator.ts';

export const AUTHENTICATED_GROUP = 'system:authenticated';

/** apiserver adds system:authenticated to every authenticated user; RBAC's defaults bind to it. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

export function createAuthenticator(deps: {
  store: Store;
  log: Logger;
  now?: () => Date;
  loopbackToken?: string;
  inProcess?: InProcessIdentities;
  /** Verifies ServiceAccount JWTs; without it they are rejected. */
  serviceAccountTokens?: ServiceAccountTokens;
}): CredentialAuthenticator {
  const serviceAccounts = deps.serviceAccountTokens ? { tokens: deps.serviceAccountTokens, log: deps.log } : undefined;
  const identify = async (req: IncomingMessage): Promise<AuthenticationResult> => {
    // A request made inside this process on behalf of a user (the link's node writes).
    const own = deps.inProcess?.userOf(req.socket);
    if (own) return { kind: 'user', user: withAuthenticatedGroup(own) };
    // The in-process controllers' token: before the others, it needs no store read.
    const loopback = deps.loopbackToken ? authenticateLoopback(req, deps.loopbackToken) : undefined;
    if (loopback) return { kind: 'user', user: withAuthenticatedGroup(loopback) };
    const cert = authenticateClientCertificate(req);
    if (cert.kind === 'user') return { kind: 'user', user: withAuthenticatedGroup(cert.user) };
    const token = await authenticateBearerToken(req, deps.store, deps.now, serviceAccounts);
    if (token.kind === 'user') return { kind: 'user', user: withAuthenticatedGroup(token.user) };
    const rejected = cert.kind === 'rejected' ? cert : token.kind === 'rejected' ? token : undefined;
    if (rejected) {
      deps.log.debug({ reason: rejected.reason, remote: req.socket.remoteAddress }, 'rejected a credential');
      return rejected;
    }
    return { kind: 'anonymous' };
  };
  return {
    identify,
    async authenticate(req) {
      const r = await identify(req);
      return r.kind === 'user' ? r.user : undefined;
    },
  };
}
