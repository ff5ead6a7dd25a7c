import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { ensurePki, PkiError, servingSans } from '../../../src/server/pki/index.ts';
import type { SubjectAltName } from '../../../src/server/pki/index.ts';

const DAY = 24 * 60 * 60 * 1000;
let dir: string;
const log = silentLogger();
const sans = (...extra: string[]): SubjectAltName[] => servingSans({ hostname: 'edge-1', tlsSans: extra });
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const cert = (name: string) => new X509Certificate(read(name));

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'edgeos-pki-')), 'tls');
});
afterEach(() => {
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

async function expectPkiError(p: Promise<unknown>, code: string, file: string): Promise<PkiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PkiError);
  expect((err as PkiError).code).toBe(code);
  expect((err as PkiError).message).toContain(join(dir, file));
  return err as PkiError;
}

describe('ensurePki', () => {
  it('creates a CA, a serving certificate and an admin client certificate with private keys 0600', async () => {
    const pki = await ensurePki({ dir, servingSans: sans('10.0.0.5', 'edge.example.com'), log });
    expect(readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'client-admin.crt', 'client-admin.key', 'serving.crt', 'serving.key']);
    for (const key of ['ca.key', 'serving.key', 'client-admin.key']) expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    const ca = cert('ca.crt');
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(new Date(ca.validTo).getTime() - Date.now()).toBeGreaterThan(3640 * DAY);

    const serving = cert('serving.crt');
    expect(serving.checkIssued(ca) && serving.verify(ca.publicKey)).toBe(true);
    expect(serving.ca).toBe(false);
    expect(serving.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const altNames = serving.subjectAltName!.split(', ').sort();
    expect(altNames).toEqual(
      [
        'DNS:edge-1', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:kubernetes',
        'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
        'IP Address:10.0.0.5', 'DNS:edge.example.com',
      ].sort(),
    );
    const days = (new Date(serving.validTo).getTime() - Date.now()) / DAY;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);

    const admin = cert('client-admin.crt');
    expect(admin.checkIssued(ca) && admin.verify(ca.publicKey)).toBe(true);
    expect(admin.subject).toBe('CN=admin\nO=system:masters');
    expect(admin.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(pki.adminCertPem).toBe(read('client-admin.crt'));
    expect(pki.caCertPem).toBe(read('ca.crt'));
  });

  it('reuses everything on the next start when nothing changed', async () => {
    const first = await ensurePki({ dir, servingSans: sans('10.0.0.5'), log });
    const second = await ensurePki({ dir, servingSans: servingSans({ hostname: 'EDGE-1', tlsSans: ['10.0.0.5'] }), log });
    expect(second.servingCertPem).toBe(first.servingCertPem);
    expect(second.servingKeyPem).toBe(first.servingKeyPem);
    expect(second.adminCertPem).toBe(first.adminCertPem);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reissues only the serving certificate when its names change', async () => {
    const first = await ensurePki({ dir, servingSans: sans(), log });
    const second = await ensurePki({ dir, servingSans: sans('fd00::7'), log });
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.adminCertPem).toBe(first.adminCertPem);
    expect(second.servingCertPem).not.toBe(first.servingCertPem);
    expect(second.servingKeyPem).not.toBe(first.servingKeyPem);
    expect(cert('serving.crt').subjectAltName).toContain('IP Address:FD00:0:0:0:0:0:0:7');
  });

  it('reissues leaves that expire within 90 days, and keeps them before that', async () => {
    const start = Date.now() - 300 * DAY;
    const first = await ensurePki({ dir, servingSans: sans(), log, now: () => new Date(start) });
    const at200 = await ensurePki({ dir, servingSans: sans(), log, now: () => new Date(start + 200 * DAY) });
    expect(at200.servingCertPem).toBe(first.servingCertPem);
    const at300 = await ensurePki({ dir, servingSans: sans(), log, now: () => new Date(start + 300 * DAY) });
    expect(at300.caCertPem).toBe(first.caCertPem);
    expect(at300.servingCertPem).not.toBe(first.servingCertPem);
    expect(at300.adminCertPem).not.toBe(first.adminCertPem);
    expect(new Date(cert('serving.crt').validTo).getTime()).toBeGreaterThan(Date.now() + 360 * DAY);
  });

  it('reissues leaves that the current CA did not sign', async () => {
    await ensurePki({ dir, servingSans: sans(), log });
    const other = join(dir, '..', 'other');
    await ensurePki({ dir: other, servingSans: sans(), log });
    writeFileSync(join(dir, 'serving.crt'), readFileSync(join(other, 'serving.crt')));
    writeFileSync(join(dir, 'serving.key'), readFileSync(join(other, 'serving.key')));
    await ensurePki({ dir, servingSans: sans(), log });
    expect(cert('serving.crt').checkIssued(cert('ca.crt'))).toBe(true);
  });

  it('refuses a CA certificate without its key, naming the missing file', async () => {
    await ensurePki({ dir, servingSans: sans(), log });
    unlinkSync(join(dir, 'ca.key'));
    const err = await expectPkiError(ensurePki({ dir, servingSans: sans(), log }), 'PKI_INCOMPLETE', 'ca.key');
    expect(err.message).toMatch(/restore both files from a backup/);
  });

  it('refuses a corrupt CA certificate, naming the file', async () => {
    await ensurePki({ dir, servingSans: sans(), log });
    writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    await expectPkiError(ensurePki({ dir, servingSans: sans(), log }), 'PKI_CORRUPT', 'ca.crt');
  });

  it('refuses a corrupt or mismatched leaf key, telling to remove both files', async () => {
    await ensurePki({ dir, servingSans: sans(), log });
    writeFileSync(join(dir, 'client-admin.key'), 'garbage');
    const corrupt = await expectPkiError(ensurePki({ dir, servingSans: sans(), log }), 'PKI_CORRUPT', 'client-admin.key');
    expect(corrupt.message).toMatch(/remove both files/);
    writeFileSync(join(dir, 'client-admin.key'), read('serving.key'));
    await expectPkiError(ensurePki({ dir, servingSans: sans(), log }), 'PKI_MISMATCH', 'client-admin.key');
  });

  it('refuses a serving key without its certificate', async () => {
    await ensurePki({ dir, servingSans: sans(), log });
    unlinkSync(join(dir, 'serving.crt'));
    await expectPkiError(ensurePki({ dir, servingSans: sans(), log }), 'PKI_INCOMPLETE', 'serving.crt');
  });
});
