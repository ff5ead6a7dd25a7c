import { X509Certificate, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { ensurePki, PkiError, servingSans } from '../../../src/server/pki/index.ts';
import type { Pki } from '../../../src/server/pki/index.ts';
import * as x509 from '../../../src/server/pki/x509.ts';
import { children, readDer } from '../../../src/common/der.ts';
import { createCaCertificate, issueLeafCertificate } from '../../../src/server/pki/issue.ts';
import { generateKeyPair } from '../../../src/server/pki/keys.ts';
import { nodeCertificateDer, parseCsr } from '../../../src/server/pki/node-cert.ts';
import { createNodeKeyAndCsr } from '../../../src/common/link/node-csr.ts';

let tmp: string;
let pki: Pki;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function csrPem(subject = 'CN=anything'): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: alg });
  return csr.toString('pem');
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edgeos-csr-'));
  pki = await ensurePki({ dir: join(tmp, 'tls'), servingSans: servingSans({ hostname: 'h', tlsSans: [] }), log: silentLogger() });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('signNodeCsr', () => {
  it('issues a node client certificate for the CSR key, whatever subject the CSR asked for', async () => {
    const request = await csrPem('CN=admin, O=system:masters');
    const cert = new X509Certificate(await pki.signNodeCsr(request, 'gw-1'));
    const ca = new X509Certificate(pki.caCertPem);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subject).toBe('CN=system:node:gw-1\nO=system:nodes');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const csrKey = new x509.Pkcs10CertificateRequest(request).publicKey.rawData;
    expect(Buffer.from(cert.publicKey.export({ type: 'spki', format: 'der' })).equals(Buffer.from(csrKey))).toBe(true);
  });

  it('the request a device writes (node:crypto and our DER) is the PKCS#10 @peculiar/x509 made: it verifies, names the node, and is signed for its key', async () => {
    const { keyPem, csrPem: request } = await createNodeKeyAndCsr('gw-7');
    const parsed = new x509.Pkcs10CertificateRequest(request);
    expect(await parsed.verify()).toBe(true);
    expect(parsed.subject).toBe('CN=system:node:gw-7, O=system:nodes');
    expect(parsed.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    // The same bytes as the library's request for the same key and subject, but the (random) signature.
    const key = createPrivateKey(keyPem);
    const keys = {
      privateKey: await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), alg, true, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', createPublicKey(key).export({ type: 'spki', format: 'der' }), alg, true, ['verify']),
    };
    const theirs = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=system:node:gw-7, O=system:nodes', keys, signingAlgorithm: alg });
    const info = (pem: string) => children(readDer(Buffer.from(new x509.Pkcs10CertificateRequest(pem).rawData)))[0]!.all;
    expect(info(request).equals(info(theirs.toString('pem')))).toBe(true);
    const cert = new X509Certificate(await pki.signNodeCsr(request, 'gw-7'));
    expect(cert.checkPrivateKey(key)).toBe(true);
  });

  it('rejects a CSR whose signature does not verify', async () => {
    const good = new x509.Pkcs10CertificateRequest(await csrPem());
    const raw = Buffer.from(good.rawData);
    raw[raw.length - 5] = raw[raw.length - 5]! ^ 0xff; // flip a byte of the signature
    const tampered = new x509.Pkcs10CertificateRequest(raw).toString('pem');
    await expect(pki.signNodeCsr(tampered, 'gw-1')).rejects.toMatchObject({ code: 'PKI_BAD_CSR' });
  });

  it('rejects garbage and bad node names', async () => {
    await expect(pki.signNodeCsr('nope', 'gw-1')).rejects.toBeInstanceOf(PkiError);
    await expect(pki.signNodeCsr(await csrPem(), 'GW_1')).rejects.toMatchObject({ code: 'PKI_BAD_CSR' });
    await expect(pki.signNodeCsr(await csrPem(), 'a,O=system:masters')).rejects.toMatchObject({ code: 'PKI_BAD_CSR' });
  });

  it('signs with node:crypto the very certificate @peculiar/x509 made: the same bytes but the serial and the signature', async () => {
    const keys = await generateKeyPair();
    const now = new Date(Date.UTC(2026, 11, 7, 14, 0, 0, 750));
    const issuer = { cert: await createCaCertificate(keys, now), keys };
    const { csrPem: request } = await createNodeKeyAndCsr('shop-17.eu');
    const byLibrary = await issueLeafCertificate(issuer, { subject: 'CN=system:node:shop-17.eu, O=system:nodes', publicKey: new x509.Pkcs10CertificateRequest(request).publicKey, usage: 'client', now });
    const tbsOf = (der: Buffer) => children(readDer(der))[0]!;
    const libraryTbs = tbsOf(Buffer.from(byLibrary.rawData));
    const serial = Buffer.from(children(libraryTbs)[1]!.body);
    const fast = nodeCertificateDer(issuer, parseCsr(request).spki, 'shop-17.eu', now, serial);
    expect(tbsOf(fast).all.toString('hex')).toBe(libraryTbs.all.toString('hex'));
    const cert = new X509Certificate(fast);
    expect(cert.verify(new X509Certificate(Buffer.from(issuer.cert.rawData)).publicKey)).toBe(true);
  });

  it('signs a request of another kind (RSA) through @peculiar/x509, as before', async () => {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const request = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys, signingAlgorithm: rsa })).toString('pem');
    const cert = new X509Certificate(await pki.signNodeCsr(request, 'rsa-node'));
    expect(cert.subject).toBe('CN=system:node:rsa-node\nO=system:nodes');
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.verify(new X509Certificate(pki.caCertPem).publicKey)).toBe(true);
  }, 30_000);
});
