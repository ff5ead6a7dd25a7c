/**
 * The sealed form of the cluster's bootstrap data in the datastore (docs/ha.md). K3s keeps its
 * bootstrap data (CA keys and the like) in the datastore encrypted with a key derived from the
 * server token (PBKDF2-SHA1, 4096 rounds, AES-GCM); edgeos does the same with a memory-hard KDF:
 *
 *   key  = scrypt(token, salt, N=2^15, r=8, p=1) → 32 bytes (≈ 0.1 s and 32 MiB per guess)
 *   data = AES-256-GCM(key, iv, plaintext, aad = "edgeos-bootstrap/v1")
 *
 * Salt (16 bytes) and IV (12 bytes) are random per seal and stored beside the ciphertext with the
 * KDF's parameters, so a later edgeos can raise them and still read an older record. GCM's tag
 * authenticates everything: a wrong token fails to open (and is told apart from nothing else — the
 * odds that a wrong key passes the 128-bit tag are nil), and a record altered in the database too.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';

const VERSION = 1;
const AAD = Buffer.from(`edgeos-bootstrap/v${VERSION}`);
/** scrypt's cost: 2^15 × 8 × 128 bytes = 32 MiB per derivation. */
const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

export interface SealedRecord {
  readonly version: number;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  readonly cipher: 'aes-256-gcm';
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

function deriveKey(token: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128·N·r (Node's default is exactly 32 MiB, which that reaches).
    scrypt(token, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Encrypts `plaintext` with a key derived from `token`; returns the record's bytes (JSON). */
export async function seal(token: string, plaintext: Buffer): Promise<Buffer> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(token, salt, KDF);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const record: SealedRecord = {
    version: VERSION,
    kdf: { name: 'scrypt', ...KDF, salt: salt.toString('base64') },
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  return Buffer.from(JSON.stringify(record));
}

export type OpenResult = { readonly ok: true; readonly plaintext: Buffer } | { readonly ok: false; readonly why: 'wrong-token' | 'unreadable' };

/** Decrypts a record `seal` made; `wrong-token` when the tag does not verify with this token's key. */
export async function open(token: string, bytes: Buffer): Promise<OpenResult> {
  let r: SealedRecord;
  try {
    r = JSON.parse(bytes.toString('utf8')) as SealedRecord;
  } catch {
    return { ok: false, why: 'unreadable' };
  }
  const kdfOk = r?.kdf?.name === 'scrypt' && [r.kdf.N, r.kdf.r, r.kdf.p].every((n) => Number.isInteger(n) && n > 0) && r.kdf.N <= 2 ** 20;
  if (r?.version !== VERSION || r.cipher !== 'aes-256-gcm' || !kdfOk) return { ok: false, why: 'unreadable' };
  const key = await deriveKey(token, Buffer.from(r.kdf.salt, 'base64'), r.kdf);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(r.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(r.tag, 'base64'));
    return { ok: true, plaintext: Buffer.concat([decipher.update(Buffer.from(r.data, 'base64')), decipher.final()]) };
  } catch {
    return { ok: false, why: 'wrong-token' };
  }
}
