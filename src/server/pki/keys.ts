// Keys are ECDSA P-256 (what kubeadm and k3s use by default): small certificates, fast handshakes
// on weak edge CPUs. They are generated with WebCrypto, which @peculiar/x509 signs with, and stored
// as PKCS#8 PEM ("PRIVATE KEY"), which both Node's TLS stack and Go's tls.X509KeyPair accept.
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';

export const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** The signature algorithm of every certificate we issue (ecdsa-with-SHA256). */
export const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface KeyPair {
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const pair = await webcrypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export async function privateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Parses a P-256 private key PEM (PKCS#8 or SEC1 "EC PRIVATE KEY") into a signing key pair. Throws
 * a plain Error on anything else; callers add the file name.
 */
export async function pemToKeyPair(pem: string): Promise<KeyPair> {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`expected an ECDSA P-256 key, found ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, keyAlgorithm, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, keyAlgorithm, true, ['verify']);
  return { privateKey, publicKey };
}

/** DER SubjectPublicKeyInfo of a key, to compare a key with a certificate's public key. */
export async function spkiOf(key: webcrypto.CryptoKey): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey('spki', key));
}
