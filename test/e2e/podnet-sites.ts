/**
 * A two-site edge topology in network namespaces of the caller's own (test/e2e/podnet-sites.test.ts
 * and bench/podnet), as docs/podnet.md describes it:
 *
 *   cloud (10.81.0.254, the server) ── bridge ──┬── router A (10.81.0.1, nft masquerade) ── LAN 192.168.81.0/24: a1, a2
 *                                                └── router B (10.81.0.2, nft masquerade) ── LAN 192.168.82.0/24: b1
 *
 * Each node namespace runs `edgeos join` with its own containerd. The routers masquerade what
 * leaves their site; nothing routes one site's LAN to the other, so a1/a2 reach b1 only through
 * the server (the relay), and a1 ↔ a2 directly (VXLAN on their LAN). Every name starts with the
 * caller's prefix; `close()` stops what it started and removes the namespaces.
 */
import { execFile, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { KUBECTL } from '../helpers/kubectl.ts';
import { createNetns } from '../helpers/netns.ts';
import type { Netns } from '../helpers/netns.ts';
import { removeDataDir } from '../runtime/cleanup.ts';
import { REPO, keptPodCidr, releasePodCidrClaim, waitFor as waitForState } from './helpers.ts';
import { GET, WEB } from './pod-web.ts';
import { endStdin } from '../helpers/stdin.ts';

export const IMAGE = 'edgeos.test/busybox:podnet-sites';
export const NS = 'sites';
export const CLOUD_IP = '10.81.0.254';

export interface Site {
  readonly name: 'a' | 'b';
  readonly wan: string;
  readonly lanPrefix: string;
  router: Netns;
}

export interface SiteNode {
  readonly name: string;
  readonly site: Site;
  readonly ip: string;
  readonly data: string;
  ns: Netns;
  agent?: ChildProcess;
  out: string;
}

export interface AgentLaunch {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export type Exec = { code: number; stdout: string; stderr: string };

export function exec(argv: readonly string[], timeoutMs = 30_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export class Sites {
  readonly dir = mkdtempSync(join(tmpdir(), 'pn2-sites-'));
  readonly kubeconfig = join(this.dir, 'kc.yaml');
  readonly port = 20000 + Math.floor(Math.random() * 20000);
  readonly prefix: string;
  cloud!: Netns;
  readonly sites: Site[] = [
    { name: 'a', wan: '10.81.0.1', lanPrefix: '192.168.81', router: undefined as unknown as Netns },
    { name: 'b', wan: '10.81.0.2', lanPrefix: '192.168.82', router: undefined as unknown as Netns },
  ];
  readonly nodes: SiteNode[];
  server: ChildProcess | undefined;
  serverOut = '';
  private readonly serverData: string;

  /**
   * How the agents start: Node flags then the script, and environment (default: src/cli/main.ts;
   * bench/podnet: the bundled agent program with the agent's shipped V8 flags).
   */
  private readonly agentLaunch: AgentLaunch;

  /** `layout`: node name → site; addresses .11, .12… of the site's LAN in that order. */
  constructor(prefix: string, layout: readonly { name: string; site: 'a' | 'b' }[], agentLaunch: AgentLaunch = { argv: [join(REPO, 'src/cli/main.ts')], env: {} }) {
    this.prefix = prefix;
    this.agentLaunch = agentLaunch;
    this.serverData = join(this.dir, 'server');
    const count = { a: 0, b: 0 };
    this.nodes = layout.map((l) => {
      const site = this.sites.find((s) => s.name === l.site)!;
      return { name: l.name, site, ip: `${site.lanPrefix}.${11 + count[l.site]++}`, data: join(this.dir, l.name), ns: undefined as unknown as Netns, out: '' };
    });
  }

  node(name: string): SiteNode {
    return this.nodes.find((n) => n.name === name)!;
  }

  context = (): string => this.nodes.map((n) => `${n.name} output:\n${n.out.slice(-2500)}`).join('\n') + `\nserver output:\n${this.serverOut.slice(-1500)}`;

  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
    return waitForState(what, fn, timeoutMs, this.context);
  }

  run(ns: Netns, argv: readonly string[], timeoutMs?: number): Promise<Exec> {
    return exec([...ns.prefix, ...argv], timeoutMs);
  }

  async kubectl(args: string[], input?: string): Promise<string> {
    const r = await new Promise<Exec>((resolve) => {
      const child = execFile(this.cloud.prefix[0]!, [...this.cloud.prefix.slice(1), KUBECTL, `--kubeconfig=${this.kubeconfig}`, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
      endStdin(child, input);
    });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${this.context()}`);
    return r.stdout;
  }

  private spawn(ns: Netns, args: string[], onOut: (s: string) => void, launch: AgentLaunch = { argv: [join(REPO, 'src/cli/main.ts')], env: {} }): ChildProcess {
    const child = ns.spawn([process.execPath, ...launch.argv, ...args], { ...process.env, ...launch.env, EDGEOS_LOG_LEVEL: 'info' });
    child.stdout?.on('data', (b: Buffer) => onOut(b.toString()));
    child.stderr?.on('data', (b: Buffer) => onOut(b.toString()));
    return child;
  }

  startAgent(n: SiteNode, args: string[]): void {
    n.agent = this.spawn(n.ns, args, (s) => (n.out += s), this.agentLaunch);
  }

  startServer(): void {
    this.server = this.spawn(this.cloud, ['server', '--data-dir', this.serverData, '--https-listen-port', String(this.port), '--advertise-address', CLOUD_IP, '--disable-agent', '--write-kubeconfig', this.kubeconfig], (s) => (this.serverOut += s));
  }

  /** Builds the namespaces, starts the server and joins every node; resolves once all are Ready. */
  async up(): Promise<void> {
    this.cloud = createNetns(`${this.prefix}cl`);
    this.cloud.exec(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    this.cloud.exec(['ip', 'addr', 'add', `${CLOUD_IP}/24`, 'dev', 'br0']);
    this.cloud.exec(['ip', 'link', 'set', 'br0', 'up']);
    for (const s of this.sites) {
      s.router = createNetns(`${this.prefix}r${s.name}`);
      const r = s.router;
      // WAN: a veth into the cloud's bridge. LAN: a bridge of the router's own.
      const wanEnd = `w${r.name.slice(-6)}`;
      execFileSync('ip', ['link', 'add', wanEnd, 'netns', this.cloud.name, 'type', 'veth', 'peer', 'name', 'wan', 'netns', r.name]);
      this.cloud.exec(['ip', 'link', 'set', wanEnd, 'master', 'br0', 'up']);
      r.exec(['ip', 'addr', 'add', `${s.wan}/24`, 'dev', 'wan']);
      r.exec(['ip', 'link', 'set', 'wan', 'up']);
      r.exec(['ip', 'link', 'add', 'lan', 'type', 'bridge']);
      r.exec(['ip', 'addr', 'add', `${s.lanPrefix}.1/24`, 'dev', 'lan']);
      r.exec(['ip', 'link', 'set', 'lan', 'up']);
      r.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      // What leaves the site leaves with the router's WAN address; nothing comes in unasked.
      r.exec(['nft', '-f', '-'], [
        `table ip ${this.prefix}nat {`,
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat; policy accept;',
        '    oifname "wan" masquerade',
        '  }',
        '  chain forward {',
        '    type filter hook forward priority filter; policy drop;',
        '    iifname "lan" accept',
        '    ct state established,related accept',
        '  }',
        '}',
        '',
      ].join('\n'));
    }
    for (const n of this.nodes) {
      n.ns = createNetns(`${this.prefix}${n.name}`);
      const lanEnd = this.lanPort(n);
      execFileSync('ip', ['link', 'add', lanEnd, 'netns', n.site.router.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns.name]);
      n.site.router.exec(['ip', 'link', 'set', lanEnd, 'master', 'lan', 'up']);
      n.ns.exec(['ip', 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0']);
      n.ns.exec(['ip', 'link', 'set', 'eth0', 'up']);
      n.ns.exec(['ip', 'route', 'add', 'default', 'via', `${n.site.lanPrefix}.1`]);
      mkdirSync(join(n.data, 'agent', 'images'), { recursive: true });
      writeBusyboxArchive(join(n.data, 'agent', 'images', 'busybox.tar'), IMAGE, ['sleep', '3600']);
    }
    writeFileSync(join(this.dir, 'resolv.conf'), `nameserver ${CLOUD_IP}\n`);
    this.startServer();
    await this.waitFor('the server to be ready', async () => (await this.run(this.cloud, [KUBECTL, `--kubeconfig=${this.kubeconfig}`, 'get', '--raw', '/readyz'])).stdout === 'ok', 90_000);
    const token = readFileSync(join(this.serverData, 'server', 'token'), 'utf8').trim();
    // The token names the server by its cloud address, which every site reaches through its NAT.
    for (const n of this.nodes) this.startAgent(n, ['join', token, '--node-name', n.name, '--data-dir', n.data, '--resolv-conf', join(this.dir, 'resolv.conf')]);
    for (const n of this.nodes) {
      await this.waitFor(`${n.name} to be Ready`, async () => (await this.nodeField(n.name, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True', 180_000);
    }
    await this.kubectl(['create', 'namespace', NS]);
  }

  nodeField = async (name: string, path: string): Promise<string> => (await this.kubectl(['get', 'node', name, '-o', `jsonpath=${path}`])).trim();
  podIp = async (name: string): Promise<string> => (await this.kubectl(['-n', NS, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).trim();

  /** One web pod per node, `web-<node>`; resolves once all run. */
  async webPods(): Promise<void> {
    const pod = (node: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${node}`, namespace: NS, labels: { app: `web-${node}` } },
      spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', WEB] }] },
    });
    await this.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: this.nodes.map((n) => pod(n.name)) }));
    const want = this.nodes.map(() => 'Running').join(' ');
    await this.waitFor('the pods to run', async () => (await this.kubectl(['-n', NS, 'get', 'pods', '-o', 'jsonpath={.items[*].status.phase}'])).trim() === want, 180_000);
  }

  /** A shell script in the network namespace of `n`'s pod with `ip` (host busybox), which needs no server. */
  async inPodNetns(n: SiteNode, ip: string, script: string, timeoutMs = 30_000): Promise<Exec> {
    const ns = podNetnsOf(n, ip);
    return exec(['nsenter', `--net=/var/run/netns/${ns}`, 'busybox', 'sh', '-c', GET + script], timeoutMs);
  }

  /**
   * How `from` reaches `to`'s pods now: the device of the route to `to`'s pod CIDR (the overlay's
   * or the relay's), checked against that device's forwarding entry for `to` (`to`'s address, or
   * a relay address). Read from the kernel: works with the server down.
   */
  via(from: SiteNode, to: SiteNode): 'native' | 'direct' | 'relay' | undefined {
    const cidr = keptPodCidr(to.data);
    if (!cidr) return undefined;
    const route = (JSON.parse(from.ns.exec(['ip', '-j', 'route', 'show', cidr])) as { dev?: string; gateway?: string }[])[0];
    const dev = route?.dev;
    if (!dev) return undefined;
    // Routed natively: through the node's own LAN interface to the peer's LAN address.
    if (dev === 'eth0' && route.gateway === to.ip) return 'native';
    const fdb = JSON.parse(from.ns.exec(['bridge', '-j', 'fdb', 'show', 'dev', dev])) as { mac: string; dst?: string }[];
    const dst = fdb.find((e) => e.mac === this.vtepMac(to))?.dst;
    if (dev.startsWith('eosv') && dst === to.ip) return 'direct';
    if (dev.startsWith('eosr') && dst?.startsWith('169.254.')) return 'relay';
    return undefined;
  }

  private readonly macs = new Map<string, string>();
  vtepMac(n: SiteNode): string {
    let m = this.macs.get(n.name);
    if (!m) {
      const dev = JSON.parse(n.ns.exec(['ip', '-j', 'link', 'show', 'type', 'vxlan'])) as { address: string }[];
      m = dev[0]!.address;
      this.macs.set(n.name, m);
    }
    return m;
  }

  /**
   * Cuts the LAN between `n` and `to` (same site): their site's bridge drops every frame between
   * their two ports, both ways, so neither native routing nor VXLAN passes; both still reach their
   * router (and the server through it).
   */
  cut(n: SiteNode, to: SiteNode): void {
    const [p, q] = [this.lanPort(n), this.lanPort(to)];
    n.site.router.exec(['nft', '-f', '-'], `table bridge ${this.prefix}cut {\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n    iifname "${p}" oifname "${q}" drop\n    iifname "${q}" oifname "${p}" drop\n  }\n}\n`);
  }

  restore(n: SiteNode): void {
    n.site.router.exec(['nft', 'delete', 'table', 'bridge', `${this.prefix}cut`]);
  }

  /**
   * Makes `site`'s LAN drop frames whose IPv4 source is in `cidr` (as a cloud network that checks
   * source addresses does): routed pod packets no longer pass, VXLAN (node addresses) does.
   */
  dropSources(site: Site, cidr: string): void {
    site.router.exec(['nft', '-f', '-'], `table bridge ${this.prefix}src {\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n    ip saddr ${cidr} drop\n  }\n}\n`);
  }

  allowSources(site: Site): void {
    site.router.exec(['nft', 'delete', 'table', 'bridge', `${this.prefix}src`]);
  }

  /** `n`'s port on its site's LAN bridge (in the router's namespace). */
  private lanPort(n: SiteNode): string {
    return `l${n.ns.name.slice(-6)}`;
  }

  async stopServer(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await stopChild(this.server, signal);
  }

  async close(): Promise<void> {
    for (const n of this.nodes) await stopChild(n.agent);
    await stopChild(this.server);
    for (const n of this.nodes) {
      if (!n.ns) continue;
      // The agent left its pods running (by design): a containerd of our own, inside the node's
      // namespace, removes them through CRI.
      await this.run(n.ns, [process.execPath, '--input-type=module', '-e', `const m = await import(${JSON.stringify(join(REPO, 'test/e2e/helpers.ts'))}); await m.removePodsOfStoppedAgent(${JSON.stringify(n.data)});`], 120_000);
      releasePodCidrClaim(n.data, n.ns.name);
      n.ns.remove();
      removeDataDir(n.data);
    }
    for (const s of this.sites) s.router?.remove();
    this.cloud?.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The CNI network namespace (/var/run/netns/cni-…) of `n`'s pod with address `ip`: among the
 * namespaces the node's namespace has ids for (its pods' veth peers), since other agents on the
 * host may have pods with the same address.
 */
export function podNetnsOf(n: SiteNode, ip: string): string {
  const ids = n.ns.exec(['ip', 'netns', 'list-id']);
  const names = [...ids.matchAll(/iproute2 netns name: (cni-[\w-]+)/g)].map((m) => m[1]!);
  for (const name of names.filter((f) => readdirSync('/var/run/netns').includes(f))) {
    let out: string;
    try {
      out = execFileSync('ip', ['-n', name, '-j', '-4', 'addr', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      continue;
    }
    if (out.includes(`"${ip}"`)) return name;
  }
  throw new Error(`no pod network namespace has ${ip}`);
}

/** By PID (nsenter execs the command, so the child's pid is edgeos itself); SIGKILL after 15 s. */
export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, signal);
  const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}
