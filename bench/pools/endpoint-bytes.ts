// bench/pools, endpoint_bytes_per_node_ratio: the EndpointSlice bytes one node's link carries for
// one 1,000-endpoint Service spread over every pool, with `service.edgeos.io/topology: pool`
// against without it. A real agent (`edgeos join --pool pool-000 --disable-runtime`) is linked;
// the server's own per-node counter (`edgeos_link_transmit_bytes_total` on /metrics) is read
// before and after the slices are written. The slices are as the EndpointSlice controller writes
// them (10 of 100 endpoints, with targetRef and conditions), and the endpoints interleaved over
// the pools — every slice holds one endpoint of each pool, so a filtered node still gets all ten
// slices (the less favourable layout).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClosableKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import { inNamespace, resources } from '../../src/server/controllers/types.ts';
import type { KubeObject } from '../../src/server/controllers/types.ts';
import type { RunningServer } from '../../test/helpers/start-server.ts';

const ENDPOINTS = 1000;
const PER_SLICE = 100;
const NS = 'bench-endpoints';
const PROBE = 'probe-000';
const REPO = resolve(import.meta.dirname, '../..');

/** The server's count of link bytes sent to `node` (undefined before its first link). */
async function linkBytesTo(server: RunningServer, node: string): Promise<number | undefined> {
  const r = await server.request('GET', '/metrics');
  const line = r.body.split('\n').find((l) => l.startsWith(`edgeos_link_transmit_bytes_total{node="${node}"} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Waits until the node's byte count stopped moving for 3 s (the feed has sent everything); returns it. */
async function settled(server: RunningServer, node: string): Promise<number> {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 180_000;
  for (;;) {
    const now = (await linkBytesTo(server, node)) ?? -1;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (now >= 0 && Date.now() - stableSince >= 3000) return now;
    if (Date.now() > deadline) throw new Error(`the link bytes of ${node} did not settle`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function slices(service: string, pools: number, nodesPerPool: number, poolName: (i: number) => string): KubeObject[] {
  const out: KubeObject[] = [];
  for (let s = 0; s < ENDPOINTS / PER_SLICE; s++) {
    const endpoints = Array.from({ length: PER_SLICE }, (_, k) => {
      const j = s * PER_SLICE + k;
      const pool = poolName(j % pools);
      const pod = `${service}-${pool}-${j}`;
      return {
        addresses: [`10.${42 + Math.floor(j / 65536)}.${Math.floor(j / 256) % 256}.${j % 256}`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: `${pool}-n${Math.floor(j / pools) % nodesPerPool}`,
        targetRef: { kind: 'Pod', namespace: NS, name: pod, uid: randomUUID() },
      };
    });
    out.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${service}-${s}`, namespace: NS, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'bench' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints,
    } as unknown as KubeObject);
  }
  return out;
}

/** The EndpointSlice bytes the probe node received for the Service, written once. */
async function measure(server: RunningServer, client: ClosableKubeClient, service: string, topology: string | undefined, pools: number, nodesPerPool: number, poolName: (i: number) => string): Promise<number> {
  await client.create(inNamespace(resources.services, NS), {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: service, namespace: NS, ...(topology ? { annotations: { 'service.edgeos.io/topology': topology } } : {}) },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  } as unknown as KubeObject);
  const before = await settled(server, PROBE);
  for (const s of slices(service, pools, nodesPerPool, poolName)) await client.create(inNamespace(resources.endpointSlices, NS), s);
  return (await settled(server, PROBE)) - before;
}

export interface EndpointBytes {
  readonly withTopology: number;
  readonly without: number;
  readonly ratio: number;
}

export async function endpointBytesPerNode(server: RunningServer, client: ClosableKubeClient, o: { pools: number; nodesPerPool: number; poolName: (i: number) => string }): Promise<EndpointBytes> {
  await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } as unknown as KubeObject);
  const token = readFileSync(join(server.dir, 'data', 'server', 'token'), 'utf8').trim();
  let out = '';
  const agent: ChildProcess = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), 'join', token, '--node-name', PROBE, '--pool', o.poolName(0), '--disable-runtime', '--data-dir', join(server.dir, PROBE)], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEOS_LOG_LEVEL: 'warn' },
  });
  agent.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  agent.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => agent.once('exit', () => r()));
  try {
    const deadline = Date.now() + 120_000;
    while ((await linkBytesTo(server, PROBE)) === undefined) {
      if (agent.exitCode !== null || Date.now() > deadline) throw new Error(`the probe agent did not link:\n${out}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const without = await measure(server, client, 'edge-all', undefined, o.pools, o.nodesPerPool, o.poolName);
    const withTopology = await measure(server, client, 'edge-pool', 'pool', o.pools, o.nodesPerPool, o.poolName);
    return { withTopology, without, ratio: withTopology / without };
  } finally {
    if (agent.exitCode === null && agent.pid !== undefined) process.kill(agent.pid, 'SIGTERM');
    await exited;
  }
}
