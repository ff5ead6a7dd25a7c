// Bearer tokens kept in the store. A token is "<id>.<secret>" (the shape of Kubernetes bootstrap
// tokens); the store holds only SHA-256 of the secret under /registry/edgeos.io/tokens/<id>, so a
// copy of the database or a snapshot does not reveal a usable credential.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KeyExistsError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import { InvalidInputError } from '../../common/errors.ts';

export const TOKEN_PREFIX = '/registry/edgeos.io/tokens/';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 6;
const SECRET_LENGTH = 32; // 36^32 ≈ 2^165
const tokenRe = /^([a-z0-9]{6})\.([a-z0-9]{32})$/;

export interface StoredToken {
  readonly id: string;
  /** "sha256:<hex>" of the secret part. */
  readonly secretHash: string;
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly description?: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
}

export interface NewToken {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly uid?: string;
  readonly description?: string;
  /** Lifetime; absent = until revoked. */
  readonly ttlSeconds?: number;
}

function randomString(n: number): string {
  // Rejection sampling keeps the characters uniform (256 is not a multiple of 36).
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 252 && out.length < n) out += ALPHABET[b % 36];
    }
  }
  return out;
}

function hashSecret(secret: string): string {
  return 'sha256:' + createHash('sha256').update(secret).digest('hex');
}

export function tokenKey(id: string): string {
  return TOKEN_PREFIX + id;
}

/** Splits a presented token; undefined when it does not have our shape. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = tokenRe.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function secretMatches(stored: StoredToken, secret: string): boolean {
  const a = Buffer.from(stored.secretHash);
  const b = Buffer.from(hashSecret(secret));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Creates a token and returns it in plain text: the only time it is ever visible. */
export async function createToken(store: Store, spec: NewToken, now = new Date()): Promise<{ token: string; record: StoredToken }> {
  if (!spec.user) throw new InvalidInputError('a token needs a user name');
  if (spec.ttlSeconds !== undefined && !(spec.ttlSeconds > 0)) throw new InvalidInputError('a token lifetime must be positive');
  for (;;) {
    const id = randomString(ID_LENGTH);
    const secret = randomString(SECRET_LENGTH);
    const record: StoredToken = {
      id,
      secretHash: hashSecret(secret),
      user: spec.user,
      ...(spec.uid ? { uid: spec.uid } : {}),
      groups: [...(spec.groups ?? [])],
      ...(spec.description ? { description: spec.description } : {}),
      createdAt: now.toISOString(),
      ...(spec.ttlSeconds ? { expiresAt: new Date(now.getTime() + spec.ttlSeconds * 1000).toISOString() } : {}),
    };
    try {
      await store.create(tokenKey(id), Buffer.from(JSON.stringify(record)), spec.ttlSeconds ? { ttlSeconds: spec.ttlSeconds } : {});
      return { token: `${id}.${secret}`, record };
    } catch (err) {
      if (err instanceof KeyExistsError) continue; // an id collision: draw again
      throw err;
    }
  }
}

export async function readToken(store: Store, id: string): Promise<StoredToken | undefined> {
  const kv = await store.get(tokenKey(id));
  if (!kv) return undefined;
  return JSON.parse(kv.value.toString('utf8')) as StoredToken;
}

export async function revokeToken(store: Store, id: string): Promise<boolean> {
  if (!(await store.get(tokenKey(id)))) return false;
  await store.delete(tokenKey(id));
  return true;
}
