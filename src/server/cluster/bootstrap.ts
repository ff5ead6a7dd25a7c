/**
 * A server on a shared datastore either founds the cluster or joins it (docs/ha.md). The cluster's
 * shared secrets — today the cluster CA's certificate and key, from which every server issues its
 * own serving, admin and server-identity certificates — live in the datastore under BOOTSTRAP_KEY,
 * sealed with the server token (bootstrap-crypto.ts), outside /registry/ so the API never serves
 * them. Join tokens and API tokens are objects of the API and need no sealing of their own.
 *
 *  - The key exists: open it with the token (no token, or the wrong one, is an error naming
 *    --token) and install the CA into <data-dir>/server/tls; a data dir that already holds another
 *    CA belongs to another cluster and is refused.
 *  - It does not: this server founds the cluster with the CA it has (or a new one), keeps the token
 *    in the data dir first (a cluster sealed with a token nobody kept could never be joined), then
 *    creates the key. Two founders racing: create() lets one win; the loser takes the winner's CA
 *    if its own was made a moment ago.
 */
import { rmSync } from 'node:fs';
import { EdgeosError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { KeyExistsError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import type { ServerTokenSource } from '../config.ts';
import { ensureClusterCa, installClusterCa } from '../pki/index.ts';
import { readIfExists } from '../pki/files.ts';
import { pairFiles } from '../pki/pair.ts';
import { open, seal } from './bootstrap-crypto.ts';
import { findServerToken, keepServerToken, newServerToken } from './local-files.ts';
import type { FoundToken } from './local-files.ts';
import { BOOTSTRAP_KEY } from './keys.ts';

export interface BootstrapOptions {
  readonly store: Store;
  /** What the operator gave (--token / --token-file), if anything. */
  readonly token: ServerTokenSource | undefined;
  /** <data-dir>/server/server-token */
  readonly tokenFile: string;
  /** <data-dir>/server/tls */
  readonly tlsDir: string;
  /** The database, as error messages name it (never with its password). */
  readonly database: string;
  readonly log: Logger;
}

interface BootstrapData {
  readonly caCertPem: string;
  readonly caKeyPem: string;
}

export interface Bootstrapped {
  /** 'founded': this server sealed the CA into the datastore; 'joined': it took the cluster's. */
  readonly role: 'founded' | 'joined';
}

const sameCert = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

async function join(o: BootstrapOptions, sealed: Buffer, token: FoundToken | undefined): Promise<Bootstrapped> {
  const tokenHint = `the first server of the cluster wrote it to <data-dir>/server/server-token`;
  if (!token) {
    throw new EdgeosError('SERVER_TOKEN_REQUIRED', `--token: ${o.database} already holds an edgeos cluster: start this server with its server token (--token or --token-file; ${tokenHint})`);
  }
  const opened = await open(token.value, sealed);
  if (!opened.ok && opened.why === 'wrong-token') {
    throw new EdgeosError('SERVER_TOKEN_MISMATCH', `${token.from}: the server token does not open the cluster's bootstrap data in ${o.database}: it is not this cluster's token (${tokenHint})`);
  }
  let data: BootstrapData | undefined;
  if (opened.ok) {
    try {
      data = JSON.parse(opened.plaintext.toString('utf8')) as BootstrapData;
    } catch {
      data = undefined;
    }
  }
  if (!data || typeof data.caCertPem !== 'string' || typeof data.caKeyPem !== 'string') {
    throw new EdgeosError('SERVER_BOOTSTRAP_UNREADABLE', `the cluster's bootstrap data in ${o.database} (${BOOTSTRAP_KEY}) is not a record this edgeos can read`);
  }
  const local = readIfExists(pairFiles(o.tlsDir, 'ca').certFile);
  if (local !== undefined && !sameCert(local, data.caCertPem)) {
    throw new EdgeosError(
      'SERVER_CLUSTER_MISMATCH',
      `--data-dir: ${o.tlsDir} holds the CA of another cluster than the one in ${o.database}; join with an empty --data-dir (or remove ${o.tlsDir}: every certificate it issued stops being trusted)`,
    );
  }
  if (local === undefined) await installClusterCa(o.tlsDir, data.caCertPem, data.caKeyPem);
  if (keepServerToken(o.tokenFile, token.value)) o.log.info({ file: o.tokenFile }, 'kept the server token in the data dir');
  o.log.info({ database: o.database }, "joined the cluster: its CA is this server's");
  return { role: 'joined' };
}

export async function bootstrapCluster(o: BootstrapOptions): Promise<Bootstrapped> {
  const token = findServerToken(o.token, o.tokenFile);
  for (;;) {
    const existing = await o.store.get(BOOTSTRAP_KEY);
    if (existing) return join(o, existing.value, token);

    const ca = await ensureClusterCa(o.tlsDir, o.log);
    const value = token?.value ?? newServerToken();
    // Kept before the cluster exists: a crash in between leaves a token and no cluster, never the reverse.
    if (keepServerToken(o.tokenFile, value)) o.log.info({ file: o.tokenFile }, 'wrote the server token: start the other servers with --token-file (a copy of it) or --token');
    const sealed = await seal(value, Buffer.from(JSON.stringify({ caCertPem: ca.certPem, caKeyPem: ca.keyPem } satisfies BootstrapData)));
    try {
      await o.store.create(BOOTSTRAP_KEY, sealed);
    } catch (err) {
      if (!(err instanceof KeyExistsError)) throw err;
      // Another server founded the cluster at the same moment: take its CA if ours is brand new.
      if (!ca.created) {
        throw new EdgeosError('SERVER_CLUSTER_MISMATCH', `--data-dir: another server founded a cluster in ${o.database} while this one was founding its own with the CA in ${o.tlsDir}; start this server again to join it with an empty --data-dir`);
      }
      const files = pairFiles(o.tlsDir, 'ca');
      rmSync(files.certFile, { force: true });
      rmSync(files.keyFile, { force: true });
      if (!token) rmSync(o.tokenFile, { force: true }); // the token we made seals nothing
      continue;
    }
    o.log.info({ database: o.database }, 'founded a cluster: its CA is sealed into the datastore with the server token');
    return { role: 'founded' };
  }
}
