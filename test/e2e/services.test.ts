/**
 * Services and cluster DNS end to end, as a new user tries them: a real `edgeos server` and a
 * device joined with `edgeos join`, both inside a network namespace of the test's own (so the
 * agent's nftables table, its DNS address 10.43.0.10 and its pods touch nothing of the host), a
 * second namespace as a client outside the cluster (it also runs the upstream resolver, dnsmasq).
 * Driven by the real kubectl: two Deployments talking by Service name, the pods' resolv.conf,
 * NodePort from the node and from outside, a LoadBalancer's published address and traffic,
 * headless SRV/A, ExternalName, ClientIP affinity, instant rejection without endpoints; then the
 * server is killed and Services and DNS keep answering, and the agent is restarted while it is
 * down and brings them back from its cache before its pods are synced.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxArchive, writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { KUBECTL } from '../helpers/kubectl.ts';
import { createNetns, linkNetns } from '../helpers/netns.ts';
import type { Netns } from '../helpers/netns.ts';
import { removeDataDir } from '../runtime/cleanup.ts';
import { REPO, releasePodCidrClaim, waitFor as waitForState } from './helpers.ts';
import { endStdin } from '../helpers/stdin.ts';

const NODE = 'svc-node';
const NS = 'shop';
const IMAGE = 'edgeos.test/busybox:services';
/** busybox plus a static kubectl, for in-cluster API access from a pod. */
const KUBECTL_IMAGE = 'edgeos.test/kubectl:services';
const STATIC_KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const NODE_IP = '10.98.0.1';
const CLIENT_IP = '10.98.0.2';
const dir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-services-'));
const serverData = join(dir, 'server');
const agentData = join(dir, 'agent');
const kubeconfig = join(dir, 'kc.yaml');
let node: Netns;
let client: Netns;
let server: ChildProcess | undefined;
let agent: ChildProcess | undefined;
let upstream: ChildProcess | undefined;
let serverOut = '';
let agentOut = '';
const port = 20000 + Math.floor(Math.random() * 20000);

const context = () => `agent output:\n${agentOut.slice(-3000)}\nserver output:\n${serverOut.slice(-1500)}`;
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => waitForState(what, fn, timeoutMs, context);

/** Runs a command inside a namespace; resolves with its exit code and output. */
function run(ns: Netns, argv: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(ns.prefix[0]!, [...ns.prefix.slice(1), ...argv], { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = input === undefined ? await run(node, [KUBECTL, `--kubeconfig=${kubeconfig}`, ...args]) : await kubectlStdin(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${context()}`);
  return r.stdout;
}

function kubectlStdin(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(node.prefix[0]!, [...node.prefix.slice(1), KUBECTL, `--kubeconfig=${kubeconfig}`, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    endStdin(child, input);
  });
}

/**
 * `get HOST [PORT]` prints the body of GET / (the serving pod's hostname). busybox's nc, not its
 * wget: Debian's static busybox wget crashes (SIGSEGV) before it connects.
 */
const GET = `get() { printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "$1" "\${2:-80}" | tail -n 1; }; `;
/** `kubectl exec <pod> -- sh -c <script>` in the test namespace, with get() defined. */
const sh = (pod: string, script: string) => run(node, [KUBECTL, `--kubeconfig=${kubeconfig}`, '-n', NS, 'exec', pod, '--', 'sh', '-c', GET + script]);
/** The same from the node itself (the host's busybox). */
const hostSh = (ns: Netns, script: string) => run(ns, ['busybox', 'sh', '-c', GET + script]);

function startEdgeos(args: string[], onOut: (s: string) => void): ChildProcess {
  const child = node.spawn([process.execPath, join(REPO, 'src/cli/main.ts'), ...args], { ...process.env, EDGEOS_LOG_LEVEL: 'info' });
  child.stdout?.on('data', (b: Buffer) => onOut(b.toString()));
  child.stderr?.on('data', (b: Buffer) => onOut(b.toString()));
  return child;
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // The child is `ip netns exec …`, which execs the command: the pid is the process itself.
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** The token file of a pod's kube-api-access volume on the node. */
function tokenFileOf(uid: string): string {
  const dir = join(agentData, 'agent', 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~projected');
  const vol = readdirSync(dir).find((n) => n.startsWith('kube-api-access-'));
  if (!vol) throw new Error(`no kube-api-access volume in ${dir}`);
  return join(dir, vol, 'token');
}

/** Asks `name` (A) of the server at argv[1] every 20 ms until SIGTERM; prints {sent, answered, maxMs}. */
const DNS_PROBE = `
const s = require('node:dgram').createSocket('udp4'); const [server, name] = process.argv.slice(1);
const q = Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 1, 0, 1])]);
const out = new Map(); let id = 0, sent = 0, answered = 0, maxMs = 0;
s.on('message', (m) => { const t = out.get(m.readUInt16BE(0)); if (t === undefined || (m.readUInt16BE(2) & 0xf) !== 0 || m.readUInt16BE(6) < 1) return;
  out.delete(m.readUInt16BE(0)); answered++; maxMs = Math.max(maxMs, Date.now() - t); });
const timer = setInterval(() => { id = (id + 1) & 0xffff; q.writeUInt16BE(id, 0); out.set(id, Date.now()); sent++; s.send(q, 53, server); }, 20);
process.on('SIGTERM', () => { clearInterval(timer); setTimeout(() => { console.log(JSON.stringify({ sent, answered, maxMs })); process.exit(0); }, 500); });
`;
const yaml = (docs: object[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
const deployment = (name: string, replicas: number, script: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', script], ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
});
const service = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec });
/** Serves its own hostname on :8080. */
const WEB = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www';

const podNames = async (app: string) => (await ok(['-n', NS, 'get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean);
const svcField = async (name: string, path: string) => (await ok(['-n', NS, 'get', 'svc', name, '-o', `jsonpath=${path}`])).trim();

beforeAll(async () => {
  node = createNetns('svcnode');
  client = createNetns('svcclient');
  linkNetns(node, NODE_IP, client, CLIENT_IP);
  client.exec(['ip', 'route', 'add', 'default', 'via', NODE_IP]);
  // The upstream resolver of names outside the cluster, outside the node.
  upstream = client.spawn(['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${CLIENT_IP}`, '--address=/www.example.test/192.0.2.80']);
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${CLIENT_IP}\n`);
  mkdirSync(join(agentData, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(agentData, 'agent', 'images', 'busybox.tar'), IMAGE, ['sleep', '3600']);
  writeFileSync(join(agentData, 'agent', 'images', 'kubectl.tar'), busyboxArchive(KUBECTL_IMAGE, ['sleep', '3600'], [{ type: 'file', name: 'bin/kubectl', data: readFileSync(STATIC_KUBECTL), mode: 0o755 }]));

  server = startEdgeos(['server', '--data-dir', serverData, '--https-listen-port', String(port), '--advertise-address', NODE_IP, '--disable-agent', '--write-kubeconfig', kubeconfig], (s) => (serverOut += s));
  await waitFor('the server to be ready', async () => (await run(node, [KUBECTL, `--kubeconfig=${kubeconfig}`, 'get', '--raw', '/readyz'])).stdout === 'ok', 90_000);
  const token = readFileSync(join(serverData, 'server', 'token'), 'utf8').trim();
  agent = startEdgeos(['join', token, '--node-name', NODE, '--data-dir', agentData, '--resolv-conf', join(dir, 'resolv.conf')], (s) => (agentOut += s));
  await waitFor('the node to be Ready', async () => (await ok(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 120_000);
  await ok(['create', 'namespace', NS]);
  await ok(['apply', '-f', '-'], yaml([
    deployment('web', 2, WEB),
    deployment('client', 1, 'exec sleep 3600'),
    service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
  ]));
  await waitFor('the pods to be ready', async () => (await ok(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).trim().split('\n').filter((s) => s === 'True').length === 3, 120_000);
}, 300_000);

afterAll(async () => {
  if (process.env.EDGEOS_TEST_KEEP_LOGS) {
    const state = server?.exitCode === null ? (await run(node, [KUBECTL, `--kubeconfig=${kubeconfig}`, 'get', 'all,events', '-A', '-o', 'wide'])).stdout : '';
    writeFileSync(process.env.EDGEOS_TEST_KEEP_LOGS, `${agentOut}\n----\n${serverOut}\n----\n${state}`);
  }
  await stop(agent);
  await stop(server);
  upstream?.kill('SIGKILL');
  // The agent left its pods running (by design): a containerd of our own, inside the node's
  // namespace where their network lives, removes them through CRI.
  await run(node, [process.execPath, '--input-type=module', '-e', `const m = await import(${JSON.stringify(join(REPO, 'test/e2e/helpers.ts'))}); await m.removePodsOfStoppedAgent(${JSON.stringify(agentData)});`], 120_000);
  releasePodCidrClaim(agentData, node.name);
  node?.remove();
  client?.remove();
  removeDataDir(agentData);
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe('Services and cluster DNS', () => {
  it('lets two Deployments talk by Service name; pods get the cluster DNS in resolv.conf', async () => {
    const [pod] = await podNames('client');
    const webPods = await podNames('web');
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const r = await sh(pod!, 'get web && get web.shop.svc.cluster.local');
      expect(r.code, r.stderr).toBe(0);
      for (const line of r.stdout.trim().split('\n')) seen.add(line);
    }
    expect([...seen].sort()).toEqual(webPods.sort());
    const resolv = (await sh(pod!, 'cat /etc/resolv.conf')).stdout;
    expect(resolv).toContain('nameserver 10.43.0.10');
    expect(resolv).toMatch(/search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    expect(resolv).toContain('options ndots:5');
    expect(await ok(['-n', NS, 'get', 'events', '-o', 'jsonpath={.items[*].reason}'])).not.toContain('MissingClusterDNS');
    // The cluster DNS Service is listed as on K3s.
    expect(await ok(['-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'])).toBe('10.43.0.10');
  });

  it('serves a NodePort from the node and from outside the cluster', async () => {
    await ok(['apply', '-f', '-'], yaml([service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] })]));
    const nodePort = await svcField('web-np', '{.spec.ports[0].nodePort}');
    const fromNode = await waitFor('the NodePort from the node', async () => {
      const r = await hostSh(node, `get ${NODE_IP} ${nodePort}`);
      return r.stdout.trim() || undefined;
    }, 30_000);
    const web = await podNames('web');
    expect(web).toContain(fromNode);
    expect(web).toContain((await hostSh(client, `get ${NODE_IP} ${nodePort}`)).stdout.trim());
  });

  it('publishes a LoadBalancer on the node address and forwards its traffic', async () => {
    await ok(['apply', '-f', '-'], yaml([service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 8081, targetPort: 8080 }] })]));
    await waitFor('the load-balancer address', async () => (await svcField('web-lb', '{.status.loadBalancer.ingress[0].ip}')) === NODE_IP, 30_000);
    const r = await waitFor('traffic to the load balancer', async () => {
      const x = await hostSh(client, `get ${NODE_IP} 8081`);
      return x.stdout.trim() || undefined;
    }, 30_000);
    expect(await podNames('web')).toContain(r);
  });

  it('answers a headless Service with A and SRV records of its endpoints', async () => {
    await ok(['apply', '-f', '-'], yaml([service('web-hl', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] })]));
    const ips = (await ok(['-n', NS, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).split(' ').sort();
    const [pod] = await podNames('client');
    const a = await waitFor('the headless A records', async () => {
      const r = await sh(pod!, 'nslookup web-hl');
      const got = [...r.stdout.matchAll(/Address: (10\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
      return got.length === 2 ? got : undefined;
    }, 30_000);
    expect(a).toEqual(ips);
    const srv = await sh(pod!, 'nslookup -type=srv _http._tcp.web-hl.shop.svc.cluster.local');
    expect(srv.stdout, srv.stderr).toMatch(/_http\._tcp\.web-hl\.shop\.svc\.cluster\.local\s+service = 0 100 8080 \d+-\d+-\d+-\d+\.web-hl\.shop\.svc\.cluster\.local/);
  });

  it('answers an ExternalName Service with its target, resolved upstream', async () => {
    await ok(['-n', NS, 'create', 'service', 'externalname', 'ext', '--external-name', 'www.example.test']);
    const [pod] = await podNames('client');
    const r = await waitFor('the ExternalName answer', async () => {
      const x = await sh(pod!, 'nslookup ext.shop.svc.cluster.local');
      return x.stdout.includes('192.0.2.80') ? x.stdout : undefined;
    }, 30_000);
    expect(r).toMatch(/ext\.shop\.svc\.cluster\.local\s+canonical name = www\.example\.test/);
  });

  it('keeps a client on one endpoint with sessionAffinity ClientIP', async () => {
    await ok(['apply', '-f', '-'], yaml([service('sticky', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }] })]));
    const [pod] = await podNames('client');
    const r = await waitFor('the sticky Service', async () => {
      const x = await sh(pod!, 'for i in 1 2 3 4 5 6 7 8 9 10; do get sticky; done');
      const lines = x.stdout.trim().split('\n').filter(Boolean);
      return lines.length === 10 ? lines : undefined;
    }, 30_000);
    expect(r).toHaveLength(10);
    expect(new Set(r).size).toBe(1);
  });

  it('refuses a Service without endpoints at once, not after a timeout', async () => {
    await ok(['apply', '-f', '-'], yaml([service('nobody', { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 8080 }] })]));
    const [pod] = await podNames('client');
    const r = await waitFor('the rejection', async () => {
      const x = await sh(pod!, 'start=$(date +%s); nc -w 20 nobody 80 </dev/null; echo "exit=$? took=$(( $(date +%s) - start ))"');
      return x.stderr.includes('refused') ? x : undefined;
    }, 30_000);
    // Seconds by `date`, through kubectl exec and a lookup on a loaded machine: the point is not 20.
    expect(r.stdout).toMatch(/exit=1 took=[0-4]\b/);
  });

  it('lets a pod with its ServiceAccount token list pods through https://kubernetes.default.svc, as RBAC allows', async () => {
    await ok(['-n', NS, 'create', 'serviceaccount', 'lister']);
    await ok(['-n', NS, 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']);
    await ok(['-n', NS, 'create', 'rolebinding', 'lister-reads', '--role=pod-reader', `--serviceaccount=${NS}:lister`]);
    await ok(['apply', '-f', '-'], yaml([{
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'in-cluster', namespace: NS },
      spec: {
        serviceAccountName: 'lister', terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: KUBECTL_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'], env: [{ name: 'HOME', value: '/tmp' }] }],
      },
    }]));
    await waitFor('the kubectl pod', async () => (await ok(['-n', NS, 'get', 'pod', 'in-cluster', '-o', 'jsonpath={.status.phase}'])) === 'Running', 90_000);
    const inPod = (script: string) => run(node, [KUBECTL, `--kubeconfig=${kubeconfig}`, '-n', NS, 'exec', 'in-cluster', '--', 'sh', '-c', script], 60_000);
    // What the kubelet gave it: the projected token, CA and namespace, and the Service variables.
    const files = await inPod('cd /var/run/secrets/kubernetes.io/serviceaccount && cat namespace && echo && head -c 20 ca.crt && echo && echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT $WEB_SERVICE_HOST $WEB_PORT_80_TCP_PROTO" && cut -d. -f2 token');
    expect(files.code, files.stderr).toBe(0);
    const [ns, ca, env, claims] = files.stdout.trim().split('\n');
    expect(ns).toBe(NS);
    expect(ca).toBe('-----BEGIN CERTIFICA');
    expect(env).toBe(`10.43.0.1:443 ${await svcField('web', '{.spec.clusterIP}')} tcp`);
    const payload = JSON.parse(Buffer.from(claims!, 'base64url').toString()) as { sub: string; 'kubernetes.io': { pod: { name: string } } };
    expect(payload.sub).toBe(`system:serviceaccount:${NS}:lister`);
    expect(payload['kubernetes.io'].pod.name).toBe('in-cluster');
    // client-go's in-cluster config (KUBERNETES_SERVICE_HOST/PORT, the token and CA of the
    // volume), and the same credential explicitly to the API by name, through the cluster DNS.
    const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
    const byName = `kubectl --server=https://kubernetes.default.svc --token="$(cat ${SA}/token)" --certificate-authority=${SA}/ca.crt`;
    const listed = await inPod(`kubectl get pod in-cluster -o name && ${byName} get pods -o name`);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^pod\/in-cluster\n/);
    expect(listed.stdout).toContain(`pod/${(await podNames('web'))[0]}`);
    // `kubectl create token` gives a person the same kind of credential.
    const token = (await ok(['-n', NS, 'create', 'token', 'lister'])).trim();
    const server = (await ok(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
    const asLister = await run(node, [KUBECTL, '--kubeconfig=/dev/null', `--server=${server}`, '--insecure-skip-tls-verify', `--token=${token}`, '-n', NS, 'get', 'pod', 'in-cluster', '-o', 'name']);
    expect(asLister.stdout.trim(), asLister.stderr).toBe('pod/in-cluster');
    // Refused once RBAC no longer allows it.
    await ok(['-n', NS, 'delete', 'rolebinding', 'lister-reads']);
    const refused = await inPod(`${byName} get pods`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`User "system:serviceaccount:${NS}:lister" cannot list resource "pods" in API group "" in the namespace "${NS}"`);
  }, 180_000);

  it('records FailedToProgramService on the node when the kernel refuses a Service, and programs the others', async () => {
    // A real refusal: an element already in the agent's no-endpoints map under the key the new
    // Service needs, with another verdict — the kernel answers "File exists" to the transaction.
    const table = `edgeos-${createHash('sha256').update(agentData).digest('hex').slice(0, 8)}`;
    const planted = await run(node, ['nft', 'add', 'element', 'ip', table, 'no-endpoints', '{ 10.43.200.200 . tcp . 80 : accept }']);
    expect(planted.code, planted.stderr).toBe(0);
    try {
      await ok(['apply', '-f', '-'], yaml([
        service('refused', { clusterIP: '10.43.200.200', ports: [{ port: 80 }] }),
        service('accepted', { clusterIP: '10.43.200.201', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }),
      ]));
      const events = await waitFor('the FailedToProgramService Event', async () => {
        const out = await ok(['get', 'events', '-A', '-o', 'jsonpath={range .items[*]}{.reason} {.involvedObject.kind}/{.involvedObject.name} {.type} {.message}{"\\n"}{end}']);
        const lines = out.split('\n').filter((l) => l.startsWith('FailedToProgramService '));
        return lines.some((l) => l.includes('shop/refused')) ? lines.join('\n') : undefined;
      });
      expect(events).toContain(`FailedToProgramService Node/${NODE} Warning the kernel refused the rules of Service shop/refused`);
      expect(events).toContain('File exists');
      expect(agentOut).toMatch(/"service":"shop\/refused".*the kernel refused the rules of a Service/);
      // The Service beside it in the same change is live, the refused one never got a chain.
      const webPods = await podNames('web');
      await waitFor('the accepted Service', async () => webPods.includes((await hostSh(node, 'get 10.43.200.201')).stdout.trim()));
      expect(events).not.toContain('shop/accepted');
    } finally {
      await ok(['-n', NS, 'delete', 'service', 'refused', 'accepted']);
      await run(node, ['nft', 'delete', 'element', 'ip', table, 'no-endpoints', '{ 10.43.200.200 . tcp . 80 }']);
    }
  }, 120_000);

  it('changes nothing in the kernel and keeps DNS answering when the link drops and comes back', async () => {
    const table = `edgeos-${createHash('sha256').update(agentData).digest('hex').slice(0, 8)}`;
    // Every change to the node's rulesets, as the kernel reports it, while the link is down and back.
    const monitor = node.spawn(['nft', 'monitor']);
    let changes = '';
    monitor.stdout!.on('data', (b: Buffer) => (changes += b.toString()));
    // A query every 20 ms, each allowed 500 ms, until SIGTERM; then what it saw.
    const dns = node.spawn([process.execPath, '-e', DNS_PROBE, '10.43.0.10', 'web.shop.svc.cluster.local']);
    let dnsOut = '';
    dns.stdout!.on('data', (b: Buffer) => (dnsOut += b.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    await stop(server, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    const from = agentOut.length;
    server = startEdgeos(['server', '--data-dir', serverData, '--https-listen-port', String(port), '--advertise-address', NODE_IP, '--disable-agent', '--write-kubeconfig', kubeconfig], (s) => (serverOut += s));
    await waitFor('the agent to link again', async () => agentOut.slice(from).includes('linked to the server'), 90_000);
    // What the link brings after a reconnect (a resume or a relist) has been applied and synced.
    await new Promise((r) => setTimeout(r, 5000));
    const dnsExit = new Promise((r) => dns.once('exit', r));
    dns.kill('SIGTERM');
    await dnsExit;
    // The monitor does see changes to this table: one of the test's own, then it stops.
    expect((await run(node, ['nft', 'add', 'chain', 'ip', table, 'monitor-probe'])).code).toBe(0);
    await run(node, ['nft', 'delete', 'chain', 'ip', table, 'monitor-probe']);
    await waitFor('the monitor to report the probe chain', async () => changes.includes('monitor-probe'), 10_000);
    await stop(monitor);
    const seen = JSON.parse(dnsOut) as { sent: number; answered: number; maxMs: number };
    expect(seen.sent).toBeGreaterThan(200);
    expect(seen.answered).toBe(seen.sent);
    expect(seen.maxMs).toBeLessThan(2000);
    expect(changes.split('\n').filter((l) => l.includes(table) && !l.includes('monitor-probe'))).toEqual([]);
  }, 180_000);

  it('keeps Services and DNS answering with the server killed, and after an agent restart while it is down', async () => {
    const clusterIp = await svcField('web', '{.spec.clusterIP}');
    const webPods = await podNames('web');
    // The in-cluster pod's token, as the kubelet wrote it into the pod's volume on this node.
    const uid = await ok(['-n', NS, 'get', 'pod', 'in-cluster', '-o', 'jsonpath={.metadata.uid}']);
    const tokenFile = tokenFileOf(uid);
    const tokenBefore = readFileSync(tokenFile, 'utf8');
    await stop(server, 'SIGKILL');
    const check = async () => {
      const dns = await run(node, ['busybox', 'nslookup', 'web.shop.svc.cluster.local', '10.43.0.10']);
      expect(dns.stdout, dns.stderr).toContain(`Address: ${clusterIp}`);
      const http = await hostSh(node, `get ${clusterIp}`);
      expect(webPods).toContain(http.stdout.trim());
    };
    await check();

    const from = agentOut.length;
    await stop(agent);
    expect(agentOut.slice(from)).toContain('Service rules removed');
    agent = startEdgeos(['agent', '--data-dir', agentData, '--resolv-conf', join(dir, 'resolv.conf')], (s) => (agentOut += s));
    await waitFor('the restarted agent to serve DNS', async () => agentOut.slice(from).includes('cluster DNS serving'), 60_000);
    await check();
    // From the cache, before the kubelet synced its pods.
    await waitFor('the kubelet', async () => agentOut.slice(from).includes('kubelet ready'), 60_000);
    const log = agentOut.slice(from);
    expect(log.indexOf('Service rules programmed')).toBeLessThan(log.indexOf('kubelet ready'));
    // Offline, the restarted kubelet keeps the pod's last token (it cannot ask for a new one).
    expect(readFileSync(tokenFile, 'utf8')).toBe(tokenBefore);
  });
});
