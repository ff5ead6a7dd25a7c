/**
 * A hollow node (kubemark's idea): the real agent — join with its own key and certificate, the
 * link over TLS, the offline cache, the kubelet with its Lease, node status and pod status
 * reports, deletions honoured — over the in-memory FakeRuntime (src/runtime/fake-runtime.ts), so
 * pods "run" without containers: sandbox and container ids are invented, every image pull
 * succeeds, started containers stay Running until the kubelet stops them. Everything above the
 * container runtime is the product's code; only containerd is not there.
 */
import { existsSync } from 'node:fs';
import { createAgent } from '../../src/agent/agent.ts';
import type { Agent } from '../../src/agent/agent.ts';
import { JoinError } from '../../src/agent/join/errors.ts';
import { joinCluster } from '../../src/agent/join/join.ts';
import { createNodeKeyAndCsr } from '../../src/common/link/node-csr.ts';
import { nodeDir, nodeFiles } from '../../src/agent/join/node-files.ts';
import type { BackoffOptions } from '../../src/agent/link/backoff.ts';
import type { Logger } from '../../src/common/log.ts';
import { FakeRuntime } from '../../src/runtime/fake-runtime.ts';

export interface HollowNodeOptions {
  readonly token: string;
  readonly name: string;
  /** This node's own data dir (identity, cache, kubelet files). Joined once; later starts reuse it. */
  readonly dataDir: string;
  readonly log: Logger;
  readonly labels?: Record<string, string>;
  readonly backoff?: BackoffOptions;
  readonly pingIntervalMs?: number;
  readonly leaseIntervalMs?: number;
  /** A background failure of this node's agent (it has stopped itself). */
  readonly onFailure?: (err: Error) => void;
}

export interface HollowNode {
  readonly name: string;
  readonly agent: Agent;
  readonly runtime: FakeRuntime;
  /** Resolves once the first sync with the server is done. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Joins (unless this data dir already holds the node) and starts the node's agent. */
export async function startHollowNode(o: HollowNodeOptions): Promise<HollowNode> {
  // A join storm can find the server (or this loaded machine) too slow to answer within the join's
  // timeouts: try again, as a device's service manager would, with a growing pause (up to 30 s)
  // for up to 20 attempts.
  // One key for every attempt: an attempt whose answer was lost may have registered the node with
  // it, and the server answers only that key again.
  let keyAndCsr: Awaited<ReturnType<typeof createNodeKeyAndCsr>> | undefined;
  for (let attempt = 1; !existsSync(nodeFiles(nodeDir(o.dataDir)).config); attempt++) {
    try {
      keyAndCsr ??= await createNodeKeyAndCsr(o.name);
      await joinCluster({ token: o.token, nodeName: o.name, dataDir: o.dataDir, register: { labels: { 'edgeos.io/hollow': 'true', ...o.labels }, taints: [] }, log: o.log, keyAndCsr });
    } catch (err) {
      if (!(err instanceof JoinError) || err.code !== 'JOIN_UNREACHABLE' || attempt >= 20) throw err;
      o.log.warn({ node: o.name, attempt, err: err.message }, 'hollow node: join failed, trying again');
      await new Promise((r) => setTimeout(r, Math.min(30_000, attempt * 2000) * (0.5 + Math.random())));
    }
  }
  const runtime = new FakeRuntime({ recordCalls: false, anyImage: true });
  const agent: Agent = createAgent({
    dataDir: o.dataDir,
    log: o.log,
    runtime: { instance: runtime },
    onFailure: (err) => {
      o.onFailure?.(err);
      void agent.stop();
    },
    ...(o.backoff ? { backoff: o.backoff } : {}),
    ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
    ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}),
  });
  await agent.start(new AbortController().signal);
  return { name: o.name, agent, runtime, ready: agent.ready, stop: () => agent.stop() };
}

/** Starts `names` with at most `concurrency` joins/starts at a time (a join storm, spread). */
export async function startHollowNodes(names: readonly string[], concurrency: number, start: (name: string) => Promise<HollowNode>): Promise<HollowNode[]> {
  const out: HollowNode[] = new Array<HollowNode>(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      out[i] = await start(names[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return out;
}
