// Certificate builders. Profiles follow what kubeadm/k3s issue: a self-signed CA that may only sign
// certificates, and leaf certificates limited to either serverAuth or clientAuth.
import { randomBytes } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import * as x509 from './x509.ts';
import { signingAlgorithm } from './keys.ts';
import type { KeyPair } from './keys.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** Leaves are backdated a little so a device whose clock lags the server's still accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;

export type SubjectAltName = { readonly type: 'dns' | 'ip'; readonly value: string };

export interface Issuer {
  readonly cert: x509.X509Certificate;
  readonly keys: KeyPair;
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export async function createCaCertificate(keys: KeyPair, now: Date): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    // The timestamp in the CN (as k3s's "k3s-server-ca@<unix>") tells two generations of a CA apart.
    name: `CN=edgeos-ca@${Math.floor(now.getTime() / 1000)}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    keys: keys as webcrypto.CryptoKeyPair,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

export interface LeafRequest {
  /** Distinguished name, e.g. "CN=admin, O=system:masters". */
  readonly subject: string;
  readonly publicKey: webcrypto.CryptoKey | x509.PublicKey;
  readonly usage: 'server' | 'client';
  readonly sans?: readonly SubjectAltName[];
  readonly now: Date;
}

export async function issueLeafCertificate(issuer: Issuer, req: LeafRequest): Promise<x509.X509Certificate> {
  const usage = req.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
  const publicKey = req.publicKey instanceof x509.PublicKey ? await req.publicKey.export() : req.publicKey;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage]),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (req.sans && req.sans.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(req.sans.map((s) => ({ type: s.type, value: s.value }))));
  }
  const notAfter = Math.min(req.now.getTime() + LEAF_VALIDITY_DAYS * DAY_MS, issuer.cert.notAfter.getTime());
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: req.subject,
    issuer: issuer.cert.subjectName,
    notBefore: new Date(req.now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm,
    extensions,
  });
}

/** True when `cert` carries a valid signature by `issuer` and names it as issuer. */
export async function isIssuedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/** The SANs of a certificate, normalized for comparison. */
export function sansOf(cert: x509.X509Certificate): SubjectAltName[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.items
    .filter((n) => n.type === 'dns' || n.type === 'ip')
    .map((n) => ({ type: n.type as 'dns' | 'ip', value: n.value }));
}
