/**
 * Join tokens are kept as Kubernetes bootstrap tokens: Secrets "bootstrap-token-<id>" of type
 * bootstrap.kubernetes.io/token in kube-system, with the data keys kubeadm uses (token-id,
 * token-secret, expiration, description, usage-bootstrap-authentication, auth-extra-groups).
 * `edgeos token` writes them through the API; the server reads them to admit a join.
 */
import { randomBytes } from 'node:crypto';

export const BOOTSTRAP_TOKEN_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_NAMESPACE = 'kube-system';
export const BOOTSTRAP_GROUP = 'system:bootstrappers:edgeos:default-node-token';

export const bootstrapSecretName = (id: string) => `bootstrap-token-${id}`;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(n: number): string {
  // Rejection sampling keeps the characters uniform (256 is not a multiple of 36).
  let out = '';
  while (out.length < n) for (const b of randomBytes(n * 2)) if (b < 252 && out.length < n) out += ALPHABET[b % 36];
  return out;
}

/** A new bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`. */
export function newBootstrapToken(): { id: string; secret: string } {
  return { id: randomString(6), secret: randomString(16) };
}

export interface BootstrapTokenSpec {
  readonly id: string;
  readonly secret: string;
  readonly description?: string;
  /** Absent = never expires. */
  readonly expiresAt?: Date;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function bootstrapSecret(t: BootstrapTokenSpec): Record<string, unknown> {
  const data: Record<string, string> = {
    'token-id': b64(t.id),
    'token-secret': b64(t.secret),
    'usage-bootstrap-authentication': b64('true'),
    'auth-extra-groups': b64(BOOTSTRAP_GROUP),
  };
  if (t.expiresAt) data.expiration = b64(rfc3339(t.expiresAt));
  if (t.description) data.description = b64(t.description);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapSecretName(t.id), namespace: BOOTSTRAP_NAMESPACE },
    type: BOOTSTRAP_TOKEN_TYPE,
    data,
  };
}

export interface StoredBootstrapToken {
  readonly id: string;
  readonly secret: string;
  readonly description: string | undefined;
  readonly expiresAt: Date | undefined;
  readonly usableForJoin: boolean;
  readonly createdAt: string | undefined;
}

/** Reads a bootstrap token Secret; undefined when the object is not one. */
export function readBootstrapSecret(obj: Record<string, unknown>): StoredBootstrapToken | undefined {
  if (obj.type !== BOOTSTRAP_TOKEN_TYPE) return undefined;
  const data = (obj.data ?? {}) as Record<string, unknown>;
  const get = (k: string) => (typeof data[k] === 'string' ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const id = get('token-id');
  const secret = get('token-secret');
  if (!id || !secret) return undefined;
  const exp = get('expiration');
  const expiresAt = exp ? new Date(exp) : undefined;
  const meta = (obj.metadata ?? {}) as { creationTimestamp?: unknown };
  return {
    id,
    secret,
    description: get('description'),
    // An unparsable expiration counts as expired, as kubeadm's token authenticator treats it.
    expiresAt: expiresAt && !Number.isNaN(expiresAt.getTime()) ? expiresAt : exp ? new Date(0) : undefined,
    usableForJoin: get('usage-bootstrap-authentication') === 'true',
    createdAt: typeof meta.creationTimestamp === 'string' ? meta.creationTimestamp : undefined,
  };
}
