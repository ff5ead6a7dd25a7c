// Loading one certificate/key pair from disk with errors that say which file is wrong and what to do.
import { join } from 'node:path';
import * as x509 from './x509.ts';
import { PkiError } from './errors.ts';
import { readIfExists } from './files.ts';
import { pemToKeyPair, spkiOf } from './keys.ts';
import type { KeyPair } from './keys.ts';

export interface LoadedPair {
  readonly cert: x509.X509Certificate;
  readonly keys: KeyPair;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface PairFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export function pairFiles(dir: string, base: string): PairFiles {
  return { certFile: join(dir, `${base}.crt`), keyFile: join(dir, `${base}.key`) };
}

/**
 * Reads a pair; undefined when neither file exists. `advice` finishes every error message, e.g.
 * "remove both files and restart to issue new ones".
 */
export async function loadPair(files: PairFiles, advice: string): Promise<LoadedPair | undefined> {
  const certPem = readIfExists(files.certFile);
  const keyPem = readIfExists(files.keyFile);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    const [missing, present] = certPem === undefined ? [files.certFile, files.keyFile] : [files.keyFile, files.certFile];
    throw new PkiError('PKI_INCOMPLETE', `${missing} is missing but ${present} exists; ${advice}`, { file: missing });
  }
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (err) {
    throw new PkiError('PKI_CORRUPT', `${files.certFile} is not a PEM certificate; ${advice}`, { cause: err, file: files.certFile });
  }
  let keys: KeyPair;
  try {
    keys = await pemToKeyPair(keyPem);
  } catch (err) {
    throw new PkiError('PKI_CORRUPT', `${files.keyFile} is not a PEM ECDSA P-256 private key; ${advice}`, {
      cause: err,
      file: files.keyFile,
    });
  }
  const keySpki = await spkiOf(keys.publicKey);
  if (!keySpki.equals(Buffer.from(cert.publicKey.rawData))) {
    throw new PkiError('PKI_MISMATCH', `${files.keyFile} is not the private key of ${files.certFile}; ${advice}`, {
      file: files.keyFile,
    });
  }
  return { cert, keys, certPem, keyPem };
}
