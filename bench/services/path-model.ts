// The ClusterIP datapath alone, without the agent, containerd or the neighbours' pods: what a
// byte costs through a ClusterIP against the same pod by its IP, on this kernel, with the agent's
// own rendered table (render.ts + nft-script.ts) — a diagnosis tool for `clusterip_throughput_ratio`
// (bench/services/README.md, session 9). Network namespaces of its own: a node with a pod bridge
// (br_netfilter on, as the agent sets it), two pods on it, and a port-less bridge holding the
// cluster DNS address and the Service CIDR route, as host-network.ts makes them. Paths, each
// measured in rounds of one fixed-size iperf3 run per path back to back (order flipping):
//   node → pod IP, node → ClusterIP   (bench/services' path: the node's own socket)
//   pod → pod IP, pod → ClusterIP     (a pod client: forwarded through the node)
// Per run: CPU per MB (iperf3's own user + system time of sender and receiver) and the skbs the
// server pod's veth carried (TSO/GSO segments both ways: a count, not a time). It also asks the
// kernel (`nft --check`) whether it takes an nftables flowtable.
// `node bench/services/path-model.ts [rounds] [bytes]`  (defaults 8, 2G). Last line: JSON.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { renderRuleset } from '../../src/agent/services/render.ts';
import { nftScript } from '../../src/agent/services/nft-script.ts';
import type { DatapathSettings, ServicePortPlan } from '../../src/agent/services/types.ts';
import { createNetns } from '../../test/helpers/netns.ts';
import type { Netns } from '../../test/helpers/netns.ts';

const ROUNDS = Number(process.argv[2] ?? 8);
const BYTES = process.argv[3] ?? '2G';
const POD_CIDR = '10.98.7.0/24';
const GATEWAY = '10.98.7.1';
const CLIENT_POD = '10.98.7.2';
const SERVER_POD = '10.98.7.3';
const CLUSTER_IP = '10.43.7.20';
const tag = randomBytes(2).toString('hex');
const settings: DatapathSettings = { table: `edgeos-model-${tag}`, serviceCidr: '10.43.0.0/16', clusterDns: '10.43.0.10', podCidr: POD_CIDR };
const plan: ServicePortPlan = {
  id: 'bench/iperf/tcp/',
  service: 'bench/iperf',
  protocol: 'tcp',
  clusterIP: CLUSTER_IP,
  port: 5201,
  nodePort: undefined,
  externalIPs: [],
  affinitySeconds: undefined,
  clusterEndpoints: [{ ip: SERVER_POD, port: 5201, local: true }],
  externalLocal: false,
  localEndpoints: [],
};

const log = (s: string) => console.log(`[path-model] ${s}`);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const spaces: Netns[] = [];
let server: ReturnType<Netns['spawn']> | undefined;
try {
  const node = createNetns('pmnode');
  const client = createNetns('pmpod1');
  const pod = createNetns('pmpod2');
  spaces.push(node, client, pod);
  const bridge = `eospm${tag}`;
  const dnsIface = `eospd${tag}`;
  node.exec(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  node.exec(['ip', 'addr', 'add', `${GATEWAY}/24`, 'dev', bridge]);
  node.exec(['ip', 'link', 'set', bridge, 'up']);
  const veths: string[] = [];
  for (const [ns, ip] of [[client, CLIENT_POD], [pod, SERVER_POD]] as const) {
    const host = `eospv${veths.length}${tag}`;
    veths.push(host);
    node.exec(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
    node.exec(['ip', 'link', 'set', host, 'master', bridge, 'up']);
    ns.exec(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    ns.exec(['ip', 'link', 'set', 'eth0', 'up']);
    ns.exec(['ip', 'route', 'add', 'default', 'via', GATEWAY]);
  }
  // host-network.ts: the cluster DNS address on a port-less bridge, the Service CIDR routed there.
  node.exec(['ip', 'link', 'add', dnsIface, 'type', 'bridge']);
  node.exec(['ip', 'link', 'set', dnsIface, 'up']);
  node.exec(['ip', 'addr', 'add', `${settings.clusterDns}/32`, 'dev', dnsIface]);
  node.exec(['ip', 'route', 'add', settings.serviceCidr, 'dev', dnsIface, 'src', settings.clusterDns]);
  node.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  node.exec(['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
  node.exec(['nft', '-f', '-'], nftScript(settings.table, undefined, renderRuleset([plan], settings)));

  // Does this kernel take a flowtable at all? (CONFIG_NF_FLOW_TABLE; applies nothing.)
  const probe = `add flowtable ip ${settings.table} ft { hook ingress priority filter; devices = { ${veths.join(', ')} }; }\n`;
  let flowtable = 'accepted';
  try {
    node.exec(['nft', '--check', '-f', '-'], probe);
  } catch (err) {
    flowtable = `refused: ${String((err as { stderr?: string }).stderr ?? err).split('\n').find((l) => l.includes('Error')) ?? String(err)}`;
  }
  log(`kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}: nftables flowtable ${flowtable}`);

  server = pod.spawn(['iperf3', '-s', '-p', '5201']);
  const skbs = () => {
    const s = JSON.parse(node.exec(['ip', '-s', '-j', 'link', 'show', veths[1]!])) as { stats64: { tx: { packets: number }; rx: { packets: number } } }[];
    return s[0]!.stats64.tx.packets + s[0]!.stats64.rx.packets;
  };
  const iperf = (from: Netns, to: string): { mbps: number; msPerMb: number; skbsPerMb: number } => {
    for (let tries = 0; ; tries++) {
      const before = skbs();
      let text: string;
      try {
        text = from.exec(['iperf3', '-c', to, '-p', '5201', '-n', BYTES, '-J']);
      } catch (err) {
        text = String((err as { stdout?: string }).stdout ?? '');
      }
      const out = JSON.parse(text) as { error?: string; end?: { sum_received: { bytes: number; seconds: number; bits_per_second: number }; cpu_utilization_percent: { host_total: number; remote_total: number } } };
      if (!out.end) {
        if (tries < 10 && out.error?.includes('busy')) {
          execFileSync('sleep', ['0.5']);
          continue;
        }
        throw new Error(`iperf3 to ${to}: ${out.error ?? text.slice(0, 300)}`);
      }
      const { bytes, seconds, bits_per_second: bits } = out.end.sum_received;
      const mb = bytes / 1e6;
      const cpu = out.end.cpu_utilization_percent;
      return { mbps: bits / 8e6, msPerMb: (((cpu.host_total + cpu.remote_total) / 100) * seconds * 1000) / mb, skbsPerMb: (skbs() - before) / mb };
    }
  };
  execFileSync('sleep', ['0.5']);
  const paths = {
    node: { from: node, label: 'node (bench/services path)' },
    pod: { from: client, label: 'pod client (forwarded)' },
  };
  const result: Record<string, number | string> = { bench: 'services-path-model', flowtable };
  for (const [key, { from, label }] of Object.entries(paths)) {
    iperf(from, SERVER_POD);
    iperf(from, CLUSTER_IP);
    const runs = { ip: [] as ReturnType<typeof iperf>[], svc: [] as ReturnType<typeof iperf>[] };
    for (let i = 0; i < ROUNDS; i++) {
      const pair = [() => runs.ip.push(iperf(from, SERVER_POD)), () => runs.svc.push(iperf(from, CLUSTER_IP))];
      for (const f of i % 2 ? pair.reverse() : pair) f();
    }
    const ratio = (f: (r: ReturnType<typeof iperf>) => number) => runs.svc.map((s, i) => f(s) / f(runs.ip[i]!));
    const cpu = ratio((r) => r.msPerMb);
    const bps = ratio((r) => r.mbps);
    log(
      `${label}, ${ROUNDS} rounds of ${BYTES}: CPU per MB pod IP ${round(median(runs.ip.map((r) => r.msPerMb)))} ms, ClusterIP ${round(median(runs.svc.map((r) => r.msPerMb)))} ms; ` +
        `ClusterIP ÷ pod IP per round: CPU/MB ${cpu.map((r) => round(r)).join(', ')} → median ${round(median(cpu))}; MB/s ${bps.map((r) => round(r)).join(', ')} → median ${round(median(bps))}; ` +
        `skbs per MB on the server's veth ${round(median(runs.ip.map((r) => r.skbsPerMb)), 2)} vs ${round(median(runs.svc.map((r) => r.skbsPerMb)), 2)}`,
    );
    result[`${key}_cpu_per_mb_ratio`] = round(median(cpu));
    result[`${key}_throughput_ratio`] = round(median(bps));
  }
  console.log(JSON.stringify(result));
} finally {
  server?.kill();
  for (const ns of spaces) ns.remove();
}
