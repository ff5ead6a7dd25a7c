/**
 * Stale UDP flows (kube-proxy's conntrack cleanup, pkg/proxy/conntrack): UDP has no connection to
 * end, so a client that keeps sending to a Service keeps its conntrack entry — and its DNAT to an
 * endpoint that is gone — until the flow is idle for the UDP timeout. When an endpoint leaves a
 * UDP Service port, the entries of that Service address (or NodePort) translated to it are
 * deleted; when a UDP port gets its first endpoints, entries made while it had none are.
 */
import type { Logger } from '../../common/log.ts';
import { runTool } from './tools.ts';
import type { ServicePortPlan } from './types.ts';

/** `conntrack -D` argument lists for what changed between two sets of plans. */
export function staleUdpFlows(prev: readonly ServicePortPlan[], next: readonly ServicePortPlan[]): string[][] {
  const now = new Map(next.map((p) => [p.id, p]));
  const out: string[][] = [];
  for (const old of prev) {
    if (old.protocol !== 'udp') continue;
    const cur = now.get(old.id);
    const before = new Set([...old.clusterEndpoints, ...old.localEndpoints].map((e) => e.ip));
    const after = new Set(cur ? [...cur.clusterEndpoints, ...cur.localEndpoints].map((e) => e.ip) : []);
    const frontends = [old.clusterIP, ...old.externalIPs].filter((x): x is string => !!x);
    for (const ep of before) {
      if (after.has(ep)) continue;
      for (const f of frontends) out.push(['-D', '-p', 'udp', '--orig-dst', f, '--orig-port-dst', String(old.port), '--dst-nat', ep]);
      if (old.nodePort) out.push(['-D', '-p', 'udp', '--orig-port-dst', String(old.nodePort), '--dst-nat', ep]);
    }
  }
  const was = new Map(prev.map((p) => [p.id, p]));
  for (const p of next) {
    if (p.protocol !== 'udp' || p.clusterEndpoints.length === 0) continue;
    const old = was.get(p.id);
    if (old && old.clusterEndpoints.length > 0) continue;
    if (p.clusterIP) out.push(['-D', '-p', 'udp', '--orig-dst', p.clusterIP, '--orig-port-dst', String(p.port)]);
  }
  return out;
}

export async function flushConntrack(flows: readonly string[][], log: Logger, prefix: readonly string[] = []): Promise<void> {
  for (const args of flows) {
    try {
      // Exit 1 with "0 flow entries have been deleted" is the common, harmless case.
      const r = await runTool(['conntrack', ...args], undefined, prefix);
      if (r.code !== 0 && !r.stderr.includes('0 flow entries')) log.warn({ args: args.join(' '), err: r.stderr.trim() }, 'conntrack flush failed');
    } catch (err) {
      log.warn({ err: String(err) }, 'cannot flush stale UDP conntrack entries: they expire with the UDP timeout instead');
      return;
    }
  }
}
