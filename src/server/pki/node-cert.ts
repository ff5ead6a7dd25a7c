// A node's client certificate from its PKCS#10 request, with node:crypto and a few lines of DER
// (der.ts) instead of @peculiar/x509's ASN.1 object model: in a join storm of thousands of devices
// the library's parse + build + sign of every certificate was the largest single item of the
// server's CPU (~9 % of a 1,000-node join; ~0.1–0.4 s per certificate on a loaded 2-core machine),
// where OpenSSL's ECDSA and a byte copy take well under a millisecond. The certificate is the one
// issue.ts would make, byte for byte up to the serial and the signature (test/server/pki): same
// fields, order, string types, times and extensions.
import { KeyObject, createHash, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { bitString, booleanTrue, children, directoryString, explicit, octetString, oid, readDer, sequence, set, time, unsignedInteger } from '../../common/der.ts';
import type { Der } from '../../common/der.ts';
import { PkiError } from './errors.ts';
import { LEAF_VALIDITY_DAYS } from './issue.ts';
import type { Issuer } from './issue.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const BACKDATE_MS = 5 * 60 * 1000;
const ECDSA_WITH_SHA256 = oid('1.2.840.10045.4.3.2');
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
/** SubjectPublicKeyInfo of an id-ecPublicKey on prime256v1, up to the BIT STRING's point (65 bytes: 04, x, y). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** What signing needs of the cluster CA, derived once per issuer. */
interface CaFacts {
  /** The CA certificate's subject, as encoded there (the issuer field of what it signs). */
  readonly subject: Buffer;
  /** SHA-1 of the CA's public key bits (the key identifier issue.ts puts in AuthorityKeyIdentifier). */
  readonly keyId: Buffer;
  readonly key: KeyObject;
  readonly notAfterMs: number;
}

const facts = new WeakMap<Issuer, CaFacts>();

function caFacts(issuer: Issuer): CaFacts {
  let f = facts.get(issuer);
  if (f) return f;
  const tbs = children(children(readDer(Buffer.from(issuer.cert.rawData)))[0]!);
  // version [0] is present in every v3 certificate: serial, signature, issuer, validity, subject, spki follow.
  const at = tbs[0]!.tag === 0xa0 ? 1 : 0;
  const spki = children(tbs[at + 5]!);
  f = {
    subject: Buffer.from(tbs[at + 4]!.all),
    keyId: createHash('sha1').update(spki[1]!.body.subarray(1)).digest(),
    key: KeyObject.from(issuer.keys.privateKey),
    notAfterMs: issuer.cert.notAfter.getTime(),
  };
  facts.set(issuer, f);
  return f;
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2), as issue.ts makes them. */
export function serialBytes(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

function pemBody(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`not a PEM ${label}`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

export interface ParsedCsr {
  /** certificationRequestInfo, the signed bytes. */
  readonly info: Buffer;
  /** The requested public key (SubjectPublicKeyInfo DER). */
  readonly spki: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly signature: Buffer;
}

/** The parts of a PEM PKCS#10 request (RFC 2986); throws PKI_BAD_CSR when it is not one. */
export function parseCsr(csrPem: string): ParsedCsr {
  try {
    const top = children(readDer(pemBody(csrPem, 'CERTIFICATE REQUEST')));
    const [info, alg, sig] = top as [Der, Der, Der];
    if (top.length !== 3 || info.tag !== 0x30 || alg.tag !== 0x30 || sig.tag !== 0x03) throw new Error('not a CertificationRequest');
    const infoParts = children(info);
    const spki = infoParts[2];
    if (!spki || spki.tag !== 0x30) throw new Error('no subjectPKInfo');
    return { info: Buffer.from(info.all), spki: Buffer.from(spki.all), signatureAlgorithm: Buffer.from(children(alg)[0]?.all ?? []), signature: Buffer.from(sig.body.subarray(1)) };
  } catch (err) {
    throw new PkiError('PKI_BAD_CSR', 'the certificate signing request is not a PEM PKCS#10 request', { cause: err });
  }
}

/** True when the request is signed with ECDSA/SHA-256 (what every edgeos agent sends): the fast path. */
export const isEcdsaSha256 = (csr: ParsedCsr) => csr.signatureAlgorithm.equals(ECDSA_WITH_SHA256);

/** Checks the request's signature with its own key: the requester holds the private key we certify. */
export function verifyCsr(csr: ParsedCsr): void {
  let valid: boolean;
  try {
    valid = verify('sha256', csr.info, { key: csr.spki, format: 'der', type: 'spki', dsaEncoding: 'der' }, csr.signature);
  } catch (err) {
    throw new PkiError('PKI_BAD_CSR', `cannot verify the certificate signing request: ${String(err)}`, { cause: err });
  }
  if (!valid) throw new PkiError('PKI_BAD_CSR', 'the signature of the certificate signing request does not verify');
}

/**
 * The DER of a node client certificate for `spki`: subject CN=system:node:<name>, O=system:nodes;
 * basicConstraints CA:FALSE and keyUsage digitalSignature (both critical), extendedKeyUsage
 * clientAuth, the CA's key identifier; valid from 5 minutes before `now` for a year (not past the CA).
 */
export function nodeCertificateDer(issuer: Issuer, spki: Buffer, nodeName: string, now: Date, serial: Buffer = serialBytes()): Buffer {
  const ca = caFacts(issuer);
  const rdn = (type: string, value: string) => set(sequence(oid(type), directoryString(value)));
  // The request's key as the standard SPKI (uncompressed point), as issue.ts re-encodes it through
  // WebCrypto: an agent's P-256 key already is (kept as it is), anything else is re-encoded.
  const standard = spki.length === P256_SPKI_PREFIX.length + 65 && spki.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX) && spki[P256_SPKI_PREFIX.length] === 0x04;
  const publicKey = standard ? spki : createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  const notAfter = Math.min(now.getTime() + LEAF_VALIDITY_DAYS * DAY_MS, ca.notAfterMs);
  const extensions = sequence(
    sequence(oid('2.5.29.19'), booleanTrue(), octetString(sequence())),
    sequence(oid('2.5.29.15'), booleanTrue(), octetString(bitString0780())),
    sequence(oid('2.5.29.37'), octetString(sequence(oid('1.3.6.1.5.5.7.3.2')))),
    sequence(oid('2.5.29.35'), octetString(sequence(Buffer.concat([Buffer.from([0x80, ca.keyId.length]), ca.keyId])))),
  );
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    sequence(ECDSA_WITH_SHA256),
    ca.subject,
    sequence(time(new Date(now.getTime() - BACKDATE_MS)), time(new Date(notAfter))),
    sequence(rdn(OID_CN, `system:node:${nodeName}`), rdn(OID_O, 'system:nodes')),
    publicKey,
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, { key: ca.key, dsaEncoding: 'der' });
  return sequence(tbs, sequence(ECDSA_WITH_SHA256), bitString(signature));
}

/** keyUsage digitalSignature: a BIT STRING of one byte, 7 unused bits, bit 0 set. */
const bitString0780 = () => Buffer.from([0x03, 0x02, 0x07, 0x80]);

/** PEM as @peculiar/x509 writes it (64-character lines), with the final newline signNodeCsr adds. */
export function certificatePem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}
