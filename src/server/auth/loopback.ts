// The loopback credential of `edgeos server`'s own controllers (kube-apiserver's loopback client
// token, which K3s also uses for its embedded controllers): a random bearer token minted at every
// start, kept only in memory, never written to disk or logs. It authenticates as
// system:edgeos-controller in system:masters.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MASTERS_GROUP } from './chain.ts';
import { bearerToken } from './token-authenticator.ts';
import type { UserInfo } from './types.ts';

export const LOOPBACK_USER = 'system:edgeos-controller';

export function createLoopbackToken(): string {
  return randomBytes(32).toString('base64url');
}

const loopbackUser: UserInfo = Object.freeze({ name: LOOPBACK_USER, groups: Object.freeze([MASTERS_GROUP]) });

/** The loopback user when the request carries exactly `token`, else undefined. */
export function authenticateLoopback(req: IncomingMessage, token: string): UserInfo | undefined {
  const given = bearerToken(req);
  if (given === undefined || given.length !== token.length) return undefined;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token)) ? loopbackUser : undefined;
}
