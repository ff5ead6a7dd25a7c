// A fresh ECDSA P-256 key and a PKCS#10 request for a node client certificate. The key is made
// where it will be used (on the device at join and renewal) and never travels; the server signs
// only the public key (CN/O are decided by the server from who is asking, not by this request).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export interface NodeKeyAndCsr {
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  readonly csrPem: string;
}

export async function createNodeKeyAndCsr(nodeName: string): Promise<NodeKeyAndCsr> {
  const keys = await webcrypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=system:node:${nodeName}, O=system:nodes`,
    keys,
    signingAlgorithm,
  });
  return { keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), csrPem: csr.toString('pem') + '\n' };
}
