// The real `edgeos server` process driven by the real kubectl 1.32.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, get, killChild, kubectl, startEdgeos, waitUntil, writeUserKubeconfig } from './helpers.ts';
import type { Child } from './helpers.ts';

const RBAC_MANIFEST = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-reads-pods, namespace: default}
subjects:
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
`;

const KUBECTL_AVAILABLE = existsSync('/usr/lib/google-cloud-sdk/bin/kubectl.1.32');

describe('edgeos server', () => {
  let tmp: string;
  let port: number;
  let child: Child | undefined;
  let ca: string;
  const kc = () => join(tmp, 'kc.yaml');

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-server-'));
    port = await freePort();
    child = startEdgeos([
      'server', '--data-dir', join(tmp, 'data'), '--bind-address', '127.0.0.1', '--https-listen-port', String(port),
      '--disable-agent', '--write-kubeconfig', kc(),
    ]);
    await waitUntil(child, 'the kubeconfig', async () => existsSync(kc()));
    const cfg = parse(readFileSync(kc(), 'utf8'));
    ca = Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    await waitUntil(child, '/readyz', async () => (await get(port, '/readyz', { ca })).status === 200);
  });

  afterAll(() => {
    killChild(child);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('writes a 0600 admin kubeconfig and says where it is', async () => {
    expect(statSync(kc()).mode & 0o777).toBe(0o600);
    const cfg = parse(readFileSync(kc(), 'utf8'));
    expect(cfg.clusters[0].cluster.server).toBe(`https://127.0.0.1:${port}`);
    await waitUntil(child!, 'the kubeconfig hint', async () => child!.stdout().includes(`export KUBECONFIG=${kc()}`));
  });

  it('answers health checks anonymously', async () => {
    expect(await get(port, '/healthz', { ca })).toEqual({ status: 200, body: 'ok' });
    expect(await get(port, '/readyz?verbose', { ca })).toEqual({
      status: 200,
      body: '[+]ping ok\n[+]store ok\n[+]api ok\n[+]shutdown ok\nreadyz check passed\n',
    });
  });

  it('refuses anonymous requests outside the public paths', async () => {
    const r = await get(port, '/api', { ca });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it.skipIf(!KUBECTL_AVAILABLE)('serves kubectl version (minor 32) and get --raw /healthz', async () => {
    const v = await kubectl(['--kubeconfig', kc(), 'version', '-o', 'json'], tmp);
    expect(v.code, v.stderr).toBe(0);
    const parsed = JSON.parse(v.stdout);
    expect(parsed.serverVersion).toMatchObject({ major: '1', minor: '32' });
    expect(parsed.serverVersion.gitVersion).toMatch(/^v1\.32\.0-edgeos\+/);
    const h = await kubectl(['--kubeconfig', kc(), 'get', '--raw', '/healthz'], tmp);
    expect(h).toMatchObject({ code: 0, stdout: 'ok' });
  });

  it.skipIf(!KUBECTL_AVAILABLE)('tells kubectl with an invalid token to log in, even on public paths', async () => {
    const cfg = parse(readFileSync(kc(), 'utf8'));
    cfg.users[0].user = { token: 'abcdef.0123456789abcdef0123456789abcdef' };
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, stringify(cfg), { mode: 0o600 });
    for (const path of ['/api', '/healthz']) {
      const r = await kubectl(['--kubeconfig', bad, 'get', '--raw', path], tmp);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: You must be logged in to the server');
    }
  });

  it.skipIf(!KUBECTL_AVAILABLE)('enforces RBAC for other users, with apiserver\'s 403 wording', async () => {
    const bob = join(tmp, 'bob.yaml');
    await writeUserKubeconfig(kc(), join(tmp, 'data', 'server', 'tls'), 'CN=bob, O=devs', bob);
    const denied = await kubectl(['--kubeconfig', bob, 'get', 'pods', '-n', 'default'], tmp);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    const rbac = join(tmp, 'rbac.yaml');
    writeFileSync(rbac, RBAC_MANIFEST);
    const applied = await kubectl(['--kubeconfig', kc(), 'apply', '--validate=false', '-f', rbac], tmp);
    expect(applied.code, applied.stderr).toBe(0);
    const allowed = await kubectl(['--kubeconfig', bob, 'get', 'pods', '-n', 'default'], tmp);
    expect(allowed.code, allowed.stderr).toBe(0);
    const other = await kubectl(['--kubeconfig', bob, 'get', 'pods', '-n', 'kube-system'], tmp);
    expect(other.stderr).toContain('User "bob" cannot list resource "pods" in API group "" in the namespace "kube-system"');
  });

  it('exits 0 on SIGTERM', async () => {
    process.kill(child!.proc.pid!, 'SIGTERM');
    const code = await Promise.race([child!.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    expect(code).toBe(0);
    expect(child!.stderr()).toContain('"msg":"stopped"');
  });
});

describe('edgeos server start-up errors', () => {
  let tmp: string;
  let blocker: Server | undefined;
  const children: Child[] = [];

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-server-bad-'));
  });
  afterAll(async () => {
    for (const c of children) killChild(c);
    await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
    rmSync(tmp, { recursive: true, force: true });
  });

  async function fails(args: string[]): Promise<string> {
    const c = startEdgeos(['server', '--bind-address', '127.0.0.1', '--disable-agent', ...args]);
    children.push(c);
    const code = await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(code).toBe(1);
    // Everything but the one line for the person is a JSON log line (pino writes asynchronously,
    // so a log line may still follow it).
    const human = c.stderr().trim().split('\n').filter((l) => !l.startsWith('{'));
    expect(human).toHaveLength(1);
    return human[0]!;
  }

  it('names --https-listen-port when the port is out of range', async () => {
    expect(await fails(['--data-dir', join(tmp, 'd1'), '--https-listen-port', '70000', '--write-kubeconfig', join(tmp, 'k1')])).toBe(
      'edgeos: --https-listen-port: "70000" is not a TCP port (1-65535)',
    );
  });

  it('names --https-listen-port when the port is in use', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    expect(await fails(['--data-dir', join(tmp, 'd2'), '--https-listen-port', String(port), '--write-kubeconfig', join(tmp, 'k2')])).toBe(
      `edgeos: --https-listen-port: 127.0.0.1:${port} is already in use by another process`,
    );
  });

  it('names --node-cidr-mask-size when the cluster CIDR cannot be split so', async () => {
    expect(await fails(['--data-dir', join(tmp, 'd5'), '--cluster-cidr', '10.0.0.0/8', '--service-cidr', '172.16.0.0/16', '--node-cidr-mask-size', '28', '--write-kubeconfig', join(tmp, 'k5')])).toBe(
      'edgeos: --node-cidr-mask-size: /28 splits --cluster-cidr 10.0.0.0/8 into 1048576 node blocks; at most 65536 are allowed (a mask size up to 24), as kube-controller-manager allows',
    );
    expect(await fails(['--data-dir', join(tmp, 'd6'), '--cluster-cidr', '10.128.0.0/16', '--node-cidr-mask-size', '12', '--write-kubeconfig', join(tmp, 'k6')])).toBe(
      'edgeos: --node-cidr-mask-size: "12" must be a prefix length between 16 (--cluster-cidr) and 29',
    );
  });

  it('names --data-dir when it is a file', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const port = await freePort();
    expect(await fails(['--data-dir', file, '--https-listen-port', String(port), '--write-kubeconfig', join(tmp, 'k3')])).toBe(
      `edgeos: --data-dir: ${file} exists and is not a directory`,
    );
  });

  it('names --write-kubeconfig when its directory cannot be created', async () => {
    const file = join(tmp, 'blocker-file');
    writeFileSync(file, 'x');
    const port = await freePort();
    const line = await fails(['--data-dir', join(tmp, 'd4'), '--https-listen-port', String(port), '--write-kubeconfig', join(file, 'sub', 'kc.yaml')]);
    expect(line).toMatch(new RegExp(`^edgeos: --write-kubeconfig: cannot create or write the directory ${file}/sub: `));
  });
});
