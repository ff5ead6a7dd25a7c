// The local agent of `edgeos server` (on unless --disable-agent): a node named after the host,
// whose certificate the server issues directly, running the full agent in the server's process.
// Its link is the server's in-process transport: no socket and no TLS between the two, while the
// server still serves it as that node (its writes pass the Node authorizer like any agent's).
import { hostname } from 'node:os';
import type { Logger } from '../../common/log.ts';
import type { LinkTransport } from '../../common/link/transport.ts';
import { createAgent } from '../agent.ts';
import type { Agent, AgentOptions } from '../agent.ts';
import { ensureLocalIdentity } from './local-identity.ts';
import type { PodNetworkBackend } from '../../common/pod-network-backend.ts';

/** What `edgeos server` hands over (src/server/server.ts LocalAgentContext, structurally). */
export interface LocalAgentServerContext {
  readonly serverUrl: string;
  readonly caPem: string;
  issueNodeCertificate(csrPem: string, nodeName: string): Promise<string>;
  /** The agent's end of a link served in the server's process as `nodeName`. */
  connectLink(nodeName: string): LinkTransport;
}

export async function startLocalAgent(
  ctx: LocalAgentServerContext,
  o: {
    dataDir: string;
    log: Logger;
    signal: AbortSignal;
    onFailure: (err: Error) => void;
    nativeBinding?: object;
    nodeName?: string;
    localStoragePath?: string;
    /** --cgroup-root of `edgeos server`; undefined: the agent's default. */
    cgroupRoot?: string;
    /** --sync-frequency of `edgeos server`; undefined: the kubelet's default. */
    resyncMs?: number;
    /** --pod-network-backend of `edgeos server` (docs/podnet.md); undefined: auto. */
    podNetworkBackend?: PodNetworkBackend;
    /** EDGEOS_POD_START_CONCURRENCY as `edgeos server` resolved it; undefined: the kubelet's default. */
    podStartConcurrency?: number;
    /** The container runtime (default: a private containerd); false runs the link and the cache only. */
    runtime?: AgentOptions['runtime'];
    leaseIntervalMs?: number;
  },
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
  const agent = createAgent({
    dataDir: o.dataDir,
    log: o.log,
    runtime: o.runtime ?? {},
    onFailure: o.onFailure,
    ...(o.localStoragePath ? { localStoragePath: o.localStoragePath } : {}),
    ...(o.cgroupRoot ? { cgroupRoot: o.cgroupRoot } : {}),
    ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}),
    ...(o.podNetworkBackend ? { podNetworkBackend: o.podNetworkBackend } : {}),
    ...(o.podStartConcurrency !== undefined ? { podStartConcurrency: o.podStartConcurrency } : {}),
    ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}),
    dial: async () => ctx.connectLink(nodeName),
    ...(o.nativeBinding ? { nativeBinding: o.nativeBinding } : {}),
  });
  await agent.start(o.signal);
  return agent;
}
