// Admits a join: the presented `<id>.<secret>` must match a bootstrap-token Secret in kube-system
// that allows authentication and has not expired. Read straight from the store (as the Node
// authorizer reads pods), compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import { BOOTSTRAP_NAMESPACE, bootstrapSecretName, readBootstrapSecret } from '../../common/link/bootstrap-secret.ts';
import { parseBootstrapToken } from '../../common/link/join-token.ts';
import type { Store } from '../../store/types.ts';
import { decodeStored } from '../storage/objects.ts';
import { ResourceRegistry, objectKey } from '../registry/index.ts';

export type TokenVerdict = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly message: string };

const secrets = new ResourceRegistry().resolve('', 'v1', 'secrets')!;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function checkBootstrapToken(store: Store, presented: string | undefined, now: Date): Promise<TokenVerdict> {
  const invalid = { ok: false, message: 'the join token is not valid: it is unknown, was deleted, or its secret is wrong' } as const;
  const parsed = presented ? parseBootstrapToken(presented) : undefined;
  if (!parsed) return invalid;
  const kv = await store.get(objectKey(secrets, BOOTSTRAP_NAMESPACE, bootstrapSecretName(parsed.id)));
  if (!kv) return invalid;
  const t = readBootstrapSecret(decodeStored(secrets, kv) as Record<string, unknown>);
  if (!t || t.id !== parsed.id || !sameSecret(t.secret, parsed.secret) || !t.usableForJoin) return invalid;
  // Only a holder of the right secret learns that the token expired.
  if (t.expiresAt && t.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, message: `the join token ${t.id} expired at ${t.expiresAt.toISOString()}; create a new one with \`edgeos token create\`` };
  }
  return { ok: true, id: t.id };
}
