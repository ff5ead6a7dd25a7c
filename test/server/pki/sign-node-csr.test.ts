import { X509Certificate, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { ensurePki, PkiError, servingSans } from '../../../src/server/pki/index.ts';
import type { Pki } from '../../../src/server/pki/index.ts';
import * as x509 from '../../../src/server/pki/x509.ts';

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
});
