/**
 * A joined node's identity on the device, under <data-dir>/agent/node:
 *   node.json   — node name, server URLs, registration labels and taints
 *   ca.crt      — the cluster CA (pinned at join)
 *   client.crt  — CN=system:node:<name>, O=system:nodes
 *   client.key  — its private key (0600), made on this device and never sent anywhere
 * Files are replaced atomically (temporary file, fsync, rename, fsync the directory).
 */
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../../common/atomic-file.ts';
import type { NodeRegistration } from '../../common/link/protocol.ts';
import { JoinError } from './errors.ts';

export interface NodeConfig {
  readonly nodeName: string;
  readonly servers: readonly string[];
  readonly register: NodeRegistration;
}

export interface NodeIdentity {
  readonly config: NodeConfig;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export const nodeDir = (dataDir: string) => join(dataDir, 'agent', 'node');
export const nodeFiles = (dir: string) => ({
  config: join(dir, 'node.json'),
  ca: join(dir, 'ca.crt'),
  cert: join(dir, 'client.crt'),
  key: join(dir, 'client.key'),
});


export function writeIdentity(dir: string, id: NodeIdentity): void {
  const f = nodeFiles(dir);
  writeFileAtomic(f.ca, id.caPem, 0o644);
  writeFileAtomic(f.key, id.keyPem, 0o600);
  writeFileAtomic(f.cert, id.certPem, 0o644);
  // node.json last: its presence is what makes the directory a joined node.
  writeNodeConfig(dir, id.config);
}

/** node.json alone: the server list changed (the cluster's servers, learnt over the link). */
export function writeNodeConfig(dir: string, config: NodeConfig): void {
  writeFileAtomic(nodeFiles(dir).config, JSON.stringify(config, null, 2) + '\n', 0o644);
}

/** A renewed certificate: key first, so a crash in between leaves a key the next renewal replaces. */
export function writeCertificate(dir: string, certPem: string, keyPem: string): void {
  const f = nodeFiles(dir);
  const keyTmp = f.key + '.next';
  writeFileAtomic(keyTmp, keyPem, 0o600);
  writeFileAtomic(f.cert + '.next', certPem, 0o644);
  renameSync(keyTmp, f.key);
  renameSync(f.cert + '.next', f.cert);
  fsyncDirectory(dir);
}

export function readIdentity(dataDir: string): NodeIdentity {
  const f = nodeFiles(nodeDir(dataDir));
  let text: string;
  try {
    text = readFileSync(f.config, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new JoinError('AGENT_NOT_JOINED', `--data-dir: ${dataDir} holds no joined node; run \`edgeos join <token> --data-dir ${dataDir}\` first`);
    }
    throw err;
  }
  const config = JSON.parse(text) as NodeConfig;
  return { config, caPem: readFileSync(f.ca, 'utf8'), certPem: readFileSync(f.cert, 'utf8'), keyPem: readFileSync(f.key, 'utf8') };
}
