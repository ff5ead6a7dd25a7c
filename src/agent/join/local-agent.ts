// The local agent of `edgeos server` (on unless --disable-agent): a node named after the host,
// whose certificate the server issues directly, running the full agent in the server's process.
import { hostname } from 'node:os';
import type { Logger } from '../../common/log.ts';
import { createAgent } from '../agent.ts';
import type { Agent } from '../agent.ts';
import { ensureLocalIdentity } from './local-identity.ts';

/** What `edgeos server` hands over (src/server/server.ts LocalAgentContext, structurally). */
export interface LocalAgentServerContext {
  readonly serverUrl: string;
  readonly caPem: string;
  issueNodeCertificate(csrPem: string, nodeName: string): Promise<string>;
}

export async function startLocalAgent(
  ctx: LocalAgentServerContext,
  o: { dataDir: string; log: Logger; signal: AbortSignal; onFailure: (err: Error) => void; nativeBinding?: object; nodeName?: string },
): Promise<Agent> {
  const nodeName = o.nodeName ?? hostname().toLowerCase();
  await ensureLocalIdentity({
    dataDir: o.dataDir,
    nodeName,
    serverUrl: ctx.serverUrl,
    caPem: ctx.caPem,
    register: { labels: { 'node-role.kubernetes.io/control-plane': 'true' }, taints: [] },
    issue: (csr, name) => ctx.issueNodeCertificate(csr, name),
  });
  const agent = createAgent({ dataDir: o.dataDir, log: o.log, runtime: {}, onFailure: o.onFailure, ...(o.nativeBinding ? { nativeBinding: o.nativeBinding } : {}) });
  await agent.start(o.signal);
  return agent;
}
