import * as x509 from './x509.ts';
import { PkiError } from './errors.ts';
import { issueLeafCertificate } from './issue.ts';
import type { Issuer } from './issue.ts';
import { certificatePem, isEcdsaSha256, nodeCertificateDer, parseCsr, verifyCsr } from './node-cert.ts';

/** Node names are DNS-1123 subdomains (as Kubernetes requires of Node objects). */
const nodeNameRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export async function signNodeCsr(issuer: Issuer, csrPem: string, nodeName: string, now: Date): Promise<string> {
  if (nodeName.length > 253 || !nodeNameRe.test(nodeName)) {
    throw new PkiError('PKI_BAD_CSR', `node name ${JSON.stringify(nodeName)} is not a lowercase DNS-1123 subdomain`);
  }
  // What every edgeos agent sends (an ECDSA P-256 key, signed with SHA-256): node:crypto and a
  // little DER, the join storm's fast path (node-cert.ts). Any other request: @peculiar/x509.
  const parsed = parseCsr(csrPem);
  if (isEcdsaSha256(parsed)) {
    verifyCsr(parsed);
    return certificatePem(nodeCertificateDer(issuer, parsed.spki, nodeName, now));
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new PkiError('PKI_BAD_CSR', 'the certificate signing request is not a PEM PKCS#10 request', { cause: err });
  }
  // The signature proves the requester holds the private key of the public key we certify.
  let valid: boolean;
  try {
    valid = await csr.verify();
  } catch (err) {
    throw new PkiError('PKI_BAD_CSR', `cannot verify the certificate signing request: ${String(err)}`, { cause: err });
  }
  if (!valid) throw new PkiError('PKI_BAD_CSR', 'the signature of the certificate signing request does not verify');
  const cert = await issueLeafCertificate(issuer, {
    // kubelet client certificates: the Node authorizer and RBAC key on exactly these names.
    subject: `CN=system:node:${nodeName}, O=system:nodes`,
    publicKey: csr.publicKey,
    usage: 'client',
    now,
  });
  return cert.toString('pem') + '\n';
}
