// A link that goes half-open (a NAT forgets the flow: packets vanish, no FIN, no RST), made with
// nftables rules that drop every packet of the link's TCP 4-tuple on loopback. With the
// production keepalive (ping after 12 s of silence, drop after 16 s), both ends give the dead
// link up and the agent is linked again — a new connection the server serves, requests acked,
// the Lease renewed — within 20 s of the packets starting to vanish.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverProcess, startTestAgent, waitFor } from './harness.ts';
import type { ApiJson, ServerProcess, TestAgent } from './harness.ts';

const TABLE = `edgeos_halfopen_${process.pid}`;
let server: ServerProcess;
let agent: TestAgent;

const nft = (script: string) => {
  const r = spawnSync('nft', ['-f', '-'], { input: script });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr.toString()}`);
};

/** The local ports of this process's established connections to the server's port (the server's own controllers hold many). */
function clientPorts(port: number): number[] {
  const out = spawnSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`]).stdout.toString();
  return out.split('\n').filter((l) => l.includes(`pid=${process.pid},`))
    .map((l) => /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === port).map((m) => Number(m[1]));
}

beforeAll(async () => {
  server = await serverProcess();
  agent = await startTestAgent(server.token(), 'behind-nat', server.dir);
}, 90_000);

afterAll(async () => {
  spawnSync('nft', ['delete', 'table', 'inet', TABLE]);
  await agent?.stop();
  await server?.dispose();
});

describe('half-open link', () => {
  it('is noticed on both ends and replaced by a working link within 20 s', async () => {
    // The harness's API calls use one connection each (no keep-alive): once they closed, the
    // link is this process's only connection to the server.
    let seen: number[] = [];
    const [agentPort] = await waitFor('only the link left', () => {
      seen = clientPorts(server.port);
      return seen.length === 1 ? seen : undefined;
    }, 20_000, 250).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${seen.length} connections`);
    });
    const before = { ...agent.agent.link!.stats };
    const logBefore = server.output().length;
    nft(`table inet ${TABLE} {
      chain out {
        type filter hook output priority 0; policy accept;
        ip saddr 127.0.0.1 tcp sport ${agentPort} tcp dport ${server.port} drop
        ip saddr 127.0.0.1 tcp sport ${server.port} tcp dport ${agentPort} drop
      }
    }`);
    const t0 = Date.now();
    await waitFor('the agent to link again', () => {
      const s = agent.agent.link!.stats;
      return s.connects > before.connects && agent.agent.link!.connected ? true : undefined;
    }, 30_000, 100);
    const agentBackMs = Date.now() - t0;
    // A request on the new link is answered: the server serves it.
    const renewals = agent.agent.link!.stats.leaseRenewals;
    await agent.agent.link!.request({ type: 'lease', durationSeconds: 40 });
    expect(agent.agent.link!.stats.leaseRenewals).toBeGreaterThanOrEqual(renewals);
    // The node's Lease (what node lifecycle reads: this agent has no kubelet, so no Ready
    // condition of its own) was renewed through the new link.
    const lease = (await server.api('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/behind-nat')).body as ApiJson;
    expect(Date.now() - Date.parse(lease.spec.renewTime)).toBeLessThan(Date.now() - t0);
    const serverSide = server.output().slice(logBefore);
    // The server let the dead session go: replaced by the new link, or dropped by its own keepalive.
    expect(serverSide).toMatch(/"replaced":true|stopped answering pings/);
    expect(clientPorts(server.port)).not.toContain(agentPort);
    expect(agentBackMs).toBeLessThanOrEqual(20_000);
    expect(agentBackMs).toBeGreaterThanOrEqual(12_000); // not before the keepalive could know
    expect(agent.agent.link!.stats.relists).toBe(before.relists);
  }, 60_000);
});
