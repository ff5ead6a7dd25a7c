/**
 * The join token a person copies from the server to a device: everything `edgeos join` needs in
 * one opaque string. Format (version 1):
 *
 *   edgeos1.<base64url of JSON {"servers":[url…],"caHash":"sha256:<hex>","token":"<id>.<secret>"}>
 *
 * The version prefix lets a later format coexist. `caHash` is the SHA-256 of the cluster CA
 * certificate's DER, which the device checks before it sends the secret anywhere (as kubeadm's
 * --discovery-token-ca-cert-hash and K3s's K10<hash> tokens do). The bootstrap token itself has
 * the kubeadm shape `[a-z0-9]{6}.[a-z0-9]{16}`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';

export const JOIN_TOKEN_PREFIX = 'edgeos1.';
const bootstrapTokenRe = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const caHashRe = /^sha256:[0-9a-f]{64}$/;

export interface JoinToken {
  /** https URLs of the API server, tried in order. */
  readonly servers: readonly string[];
  readonly caHash: string;
  readonly tokenId: string;
  readonly tokenSecret: string;
}

/** "sha256:<hex>" of a PEM certificate's DER. */
export function caHashOf(caPem: string): string {
  const der = new X509Certificate(caPem).raw;
  return 'sha256:' + createHash('sha256').update(der).digest('hex');
}

export function parseBootstrapToken(token: string): { id: string; secret: string } | undefined {
  const m = bootstrapTokenRe.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function encodeJoinToken(t: JoinToken): string {
  const body = { servers: t.servers, caHash: t.caHash, token: `${t.tokenId}.${t.tokenSecret}` };
  return JOIN_TOKEN_PREFIX + Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Parses a join token; the error never repeats the token (it holds a secret). */
export function decodeJoinToken(text: string): JoinToken {
  const bad = (why: string) => new InvalidInputError(`the join token is not valid: ${why}`);
  const s = text.trim();
  if (!s.startsWith(JOIN_TOKEN_PREFIX)) throw bad(`it must start with "${JOIN_TOKEN_PREFIX}" (copy it whole from the server's token file or \`edgeos token create\`)`);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(s.slice(JOIN_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad('it is truncated or damaged');
  }
  const b = (body ?? {}) as { servers?: unknown; caHash?: unknown; token?: unknown };
  if (!Array.isArray(b.servers) || b.servers.length === 0 || !b.servers.every((u) => typeof u === 'string' && /^https:\/\//.test(u))) {
    throw bad('it names no https server URL');
  }
  if (typeof b.caHash !== 'string' || !caHashRe.test(b.caHash)) throw bad('it carries no sha256 CA hash');
  const tok = typeof b.token === 'string' ? parseBootstrapToken(b.token) : undefined;
  if (!tok) throw bad('it carries no bootstrap token');
  return { servers: b.servers as string[], caHash: b.caHash, tokenId: tok.id, tokenSecret: tok.secret };
}
