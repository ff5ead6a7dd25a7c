// The key that signs ServiceAccount tokens (kube-apiserver's --service-account-signing-key-file;
// K3s keeps it as server/tls/service.key). One ECDSA P-256 key, created on first start beside the
// cluster CA and never rotated silently: every token a pod holds was signed with it. Servers that
// share a PostgreSQL datastore must share it (copy server/tls), as they share the CA.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../common/log.ts';
import { PkiError } from './errors.ts';
import { PRIVATE_MODE, readIfExists, writeFileAtomic } from './files.ts';

export interface ServiceAccountKey {
  readonly file: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function serviceAccountKeyFile(tlsDir: string): string {
  return join(tlsDir, 'service-account.key');
}

export function ensureServiceAccountKey(tlsDir: string, log: Logger): ServiceAccountKey {
  const file = serviceAccountKeyFile(tlsDir);
  const pem = readIfExists(file);
  if (pem !== undefined) {
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch (err) {
      throw new PkiError('PKI_CORRUPT', `${file} is not a private key: ${(err as Error).message}; restore it from a backup (removing it invalidates every ServiceAccount token)`, { cause: err, file });
    }
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new PkiError('PKI_CORRUPT', `${file} is not an ECDSA P-256 key (found ${privateKey.asymmetricKeyType ?? 'unknown'})`, { file });
    }
    return { file, privateKey, publicKey: createPublicKey(privateKey) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  try {
    writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, PRIVATE_MODE);
  } catch (err) {
    throw new PkiError('PKI_WRITE_FAILED', `cannot write ${file}: ${(err as Error).message}`, { cause: err, file });
  }
  log.info({ file }, 'created the ServiceAccount token signing key');
  return { file, privateKey, publicKey };
}
