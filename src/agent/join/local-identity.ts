// The local agent of `edgeos server` needs no join token: the server issues its node certificate
// directly. The identity is kept under <data-dir>/agent/node like a joined one and reissued when
// the cluster CA changed.
import { existsSync } from 'node:fs';
import { createNodeKeyAndCsr } from '../../common/link/node-csr.ts';
import type { NodeRegistration } from '../../common/link/protocol.ts';
import { nodeDir, nodeFiles, readIdentity, writeIdentity } from './node-files.ts';

export interface LocalIdentityOptions {
  readonly dataDir: string;
  readonly nodeName: string;
  readonly serverUrl: string;
  readonly caPem: string;
  readonly register: NodeRegistration;
  readonly issue: (csrPem: string, nodeName: string) => Promise<string>;
}

export async function ensureLocalIdentity(o: LocalIdentityOptions): Promise<void> {
  const dir = nodeDir(o.dataDir);
  if (existsSync(nodeFiles(dir).config)) {
    const id = readIdentity(o.dataDir);
    if (id.caPem === o.caPem && id.config.nodeName === o.nodeName && id.config.servers[0] === o.serverUrl) return;
  }
  const { keyPem, csrPem } = await createNodeKeyAndCsr(o.nodeName);
  const certPem = await o.issue(csrPem, o.nodeName);
  writeIdentity(dir, { config: { nodeName: o.nodeName, servers: [o.serverUrl], register: o.register }, caPem: o.caPem, certPem, keyPem });
}
