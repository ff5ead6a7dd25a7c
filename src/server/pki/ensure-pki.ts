// Creates the cluster's certificates on first start and keeps the leaves fresh on every start:
// the serving certificate is reissued when its names changed (new --tls-san, new hostname) or it
// nears expiry, like k3s's dynamiclistener; the admin certificate when it nears expiry. The CA is
// never replaced silently: every kubeconfig and node certificate depends on it.
import { mkdirSync, chmodSync } from 'node:fs';
import type { Logger } from '../../common/log.ts';
import * as x509 from './x509.ts';
import { PkiError } from './errors.ts';
import { PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from './files.ts';
import { createCaCertificate, isIssuedBy, issueLeafCertificate, sansOf } from './issue.ts';
import type { Issuer, SubjectAltName } from './issue.ts';
import { generateKeyPair, privateKeyToPem } from './keys.ts';
import { loadPair, pairFiles } from './pair.ts';
import type { LoadedPair, PairFiles } from './pair.ts';
import { sameSans } from './sans.ts';
import { signNodeCsr } from './sign-node-csr.ts';
import type { Pki } from './types.ts';

/** Leaves are reissued at start when they expire within this many days. */
export const RENEW_BEFORE_DAYS = 90;

export interface EnsurePkiOptions {
  /** <data-dir>/server/tls */
  readonly dir: string;
  /** The names the serving certificate must carry (see servingSans). */
  readonly servingSans: readonly SubjectAltName[];
  readonly log: Logger;
  /** Injected clock, for tests of expiry. */
  readonly now?: () => Date;
}

export const ADMIN_SUBJECT = 'CN=admin, O=system:masters';

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * The cluster CA of `dir` (<data-dir>/server/tls), created when there is none: what a server that
 * founds a cluster on a shared datastore seals into it (src/server/cluster/bootstrap.ts).
 */
export async function ensureClusterCa(dir: string, log: Logger, now = new Date()): Promise<{ certPem: string; keyPem: string; created: boolean }> {
  ensureDir(dir);
  const files = pairFiles(dir, 'ca');
  const existed = (await loadPair(files, 'restore both files from a backup, or remove both')) !== undefined;
  const ca = await ensureCa(files, now, log);
  return { certPem: ca.certPem, keyPem: ca.keyPem, created: !existed };
}

/** Installs the cluster's CA (from the datastore) as <dir>/ca.crt and ca.key, checking they are a pair. */
export async function installClusterCa(dir: string, certPem: string, keyPem: string): Promise<void> {
  ensureDir(dir);
  const files = pairFiles(dir, 'ca');
  await writePair(files, new x509.X509Certificate(certPem), keyPem);
}

export async function ensurePki(opts: EnsurePkiOptions): Promise<Pki> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log;
  ensureDir(opts.dir);

  const ca = await ensureCa(pairFiles(opts.dir, 'ca'), now(), log);
  const issuer: Issuer = { cert: ca.cert, keys: ca.keys };

  const serving = await ensureLeaf(pairFiles(opts.dir, 'serving'), issuer, now(), log, {
    what: 'serving certificate',
    subject: 'CN=edgeos-server',
    usage: 'server',
    sans: opts.servingSans,
  });
  const admin = await ensureLeaf(pairFiles(opts.dir, 'client-admin'), issuer, now(), log, {
    what: 'admin client certificate',
    subject: ADMIN_SUBJECT,
    usage: 'client',
  });

  return Object.freeze({
    dir: opts.dir,
    caCertPem: ca.certPem,
    servingCertPem: serving.certPem,
    servingKeyPem: serving.keyPem,
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
    signNodeCsr: (csrPem: string, nodeName: string) => signNodeCsr(issuer, csrPem, nodeName, now()),
    issueClientCertificate: (subject: string) => issueClientPair(issuer, subject, now()),
  });
}

/** A fresh key and a client certificate for `subject`, kept in memory by the caller. */
async function issueClientPair(issuer: Issuer, subject: string, now: Date): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await issueLeafCertificate(issuer, { subject, publicKey: keys.publicKey, usage: 'client', now });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyToPem(keys.privateKey) };
}

async function writePair(files: PairFiles, cert: x509.X509Certificate, keyPem: string): Promise<LoadedPair> {
  const certPem = cert.toString('pem') + '\n';
  try {
    // Key first: a crash in between leaves a key without a certificate, which the next start reports.
    writeFileAtomic(files.keyFile, keyPem, PRIVATE_MODE);
    writeFileAtomic(files.certFile, certPem, PUBLIC_MODE);
  } catch (err) {
    throw new PkiError('PKI_WRITE_FAILED', `cannot write ${files.certFile}: ${(err as Error).message}`, {
      cause: err,
      file: files.certFile,
    });
  }
  const loaded = await loadPair(files, 'remove both files and restart edgeos server');
  if (!loaded) throw new PkiError('PKI_WRITE_FAILED', `${files.certFile} vanished right after it was written`);
  return loaded;
}

async function ensureCa(files: PairFiles, now: Date, log: Logger): Promise<LoadedPair> {
  const advice =
    'restore both files from a backup, or remove both to create a new cluster CA ' +
    '(every kubeconfig and node certificate must then be reissued)';
  const existing = await loadPair(files, advice);
  if (existing) {
    if (existing.cert.notAfter.getTime() <= now.getTime()) {
      throw new PkiError('PKI_MISMATCH', `the cluster CA ${files.certFile} expired on ${existing.cert.notAfter.toISOString()}; ${advice}`, {
        file: files.certFile,
      });
    }
    return existing;
  }
  const keys = await generateKeyPair();
  const cert = await createCaCertificate(keys, now);
  log.info({ file: files.certFile, notAfter: cert.notAfter.toISOString() }, 'created the cluster CA');
  return writePair(files, cert, await privateKeyToPem(keys.privateKey));
}

interface LeafProfile {
  readonly what: string;
  readonly subject: string;
  readonly usage: 'server' | 'client';
  readonly sans?: readonly SubjectAltName[];
}

async function ensureLeaf(files: PairFiles, issuer: Issuer, now: Date, log: Logger, profile: LeafProfile): Promise<LoadedPair> {
  const existing = await loadPair(files, 'remove both files and restart edgeos server to issue new ones');
  const why = existing ? await reissueReason(existing.cert, issuer, now, profile) : 'missing';
  if (existing && why === undefined) return existing;
  const keys = await generateKeyPair();
  const cert = await issueLeafCertificate(issuer, {
    subject: profile.subject,
    publicKey: keys.publicKey,
    usage: profile.usage,
    ...(profile.sans ? { sans: profile.sans } : {}),
    now,
  });
  log.info(
    { file: files.certFile, reason: why, notAfter: cert.notAfter.toISOString(), sans: profile.sans?.map((s) => s.value) },
    `issued the ${profile.what}`,
  );
  return writePair(files, cert, await privateKeyToPem(keys.privateKey));
}

async function reissueReason(
  cert: x509.X509Certificate,
  issuer: Issuer,
  now: Date,
  profile: LeafProfile,
): Promise<string | undefined> {
  if (!(await isIssuedBy(cert, issuer.cert))) return 'not issued by the current cluster CA';
  if (cert.subject !== profile.subject) return `subject is ${cert.subject}`;
  if (cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * 24 * 60 * 60 * 1000) {
    return `expires on ${cert.notAfter.toISOString()}, within ${RENEW_BEFORE_DAYS} days`;
  }
  if (profile.sans && !sameSans(sansOf(cert), profile.sans)) return 'subject alternative names changed';
  return undefined;
}
