/**
 * `kubectl auth can-i` (with --list, --as, --as-group) and `kubectl auth whoami` from the real
 * kubectl 1.33 and 1.27 against the real `edgeos server`, as the admin, as a ServiceAccount through
 * impersonation, and as a limited user with a client certificate of its own who may not
 * impersonate anyone.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../helpers/kubectl.ts';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.33', '1.27'];

let server: RunningServer;
let bobConfig: string;

const k = (v: string, args: string[], kubeconfig?: string) =>
  kubectl(kubeconfig ? { kubeconfig, cacheDir: server.cacheDir } : server, args, { bin: `${SDK}/kubectl.${v}` });

async function ok(v: string, args: string[], kubeconfig?: string): Promise<string> {
  const r = await k(v, args, kubeconfig);
  if (r.code !== 0) throw new Error(`kubectl ${v} ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r.stdout;
}

/** A client certificate for CN=bob, O=team signed by the server's CA, in a kubeconfig of its own. */
function bobKubeconfig(): string {
  const tls = join(server.dir, 'data', 'server', 'tls');
  const dir = server.dir;
  const key = join(dir, 'bob.key');
  const csr = join(dir, 'bob.csr');
  const crt = join(dir, 'bob.crt');
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-subj', '/CN=bob/O=team', '-out', csr], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(tls, 'ca.crt'), '-CAkey', join(tls, 'ca.key'), '-CAcreateserial', '-days', '1', '-out', crt], { stdio: 'ignore' });
  const cfg = join(dir, 'bob.yaml');
  copyFileSync(server.kubeconfig, cfg);
  const kc = (args: string[]) => execFileSync(`${SDK}/kubectl.1.33`, [`--kubeconfig=${cfg}`, 'config', ...args], { stdio: 'ignore' });
  kc(['set-credentials', 'bob', `--client-certificate=${crt}`, `--client-key=${key}`, '--embed-certs=true']);
  kc(['set-context', '--current', '--user=bob']);
  return cfg;
}

beforeAll(async () => {
  server = await startServer({ extraArgs: ['--disable-controllers'] });
  bobConfig = bobKubeconfig();
  const rbac = `
apiVersion: v1
kind: ServiceAccount
metadata: { name: reader, namespace: default }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-reader, namespace: default }
rules: [{ apiGroups: [""], resources: [pods], verbs: [get, list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: pod-readers, namespace: default }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader }
subjects:
- { kind: ServiceAccount, name: reader, namespace: default }
- { kind: User, apiGroup: rbac.authorization.k8s.io, name: bob }
- { kind: Group, apiGroup: rbac.authorization.k8s.io, name: auditors }
`;
  const file = join(server.dir, 'rbac.yaml');
  writeFileSync(file, rbac);
  await ok('1.33', ['apply', '-f', file]);
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe.each(VERSIONS)('kubectl %s auth', (v) => {
  it('whoami names the admin and a limited user with their groups', async () => {
    const admin = await ok(v, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
    expect(admin).toBe('admin ["system:masters","system:authenticated"]');
    const bob = await ok(v, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'], bobConfig);
    expect(bob).toBe('bob ["team","system:authenticated"]');
  });

  it('can-i answers yes and no with exit codes, for the admin and for a ServiceAccount through --as', async () => {
    expect((await k(v, ['auth', 'can-i', 'create', 'pods'])).stdout.trim()).toBe('yes');
    const sa = 'system:serviceaccount:default:reader';
    const get = await k(v, ['auth', 'can-i', 'get', 'pods', '--as', sa]);
    expect([get.code, get.stdout.trim()]).toEqual([0, 'yes']);
    const del = await k(v, ['auth', 'can-i', 'delete', 'pods', '--as', sa]);
    expect([del.code, del.stdout.trim()]).toEqual([1, 'no']);
    // The Role is in "default" only.
    expect((await k(v, ['auth', 'can-i', 'get', 'pods', '-n', 'kube-system', '--as', sa])).stdout.trim()).toBe('no');
    // A user bound through a group only when that group is impersonated with it.
    expect((await k(v, ['auth', 'can-i', 'list', 'pods', '--as', 'carol'])).stdout.trim()).toBe('no');
    expect((await k(v, ['auth', 'can-i', 'list', 'pods', '--as', 'carol', '--as-group', 'auditors'])).stdout.trim()).toBe('yes');
    const who = await ok(v, ['auth', 'whoami', '--as', sa, '-o', 'jsonpath={.status.userInfo.groups}']);
    expect(who).toBe('["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"]');
  });

  it('can-i --list shows the rules of the impersonated ServiceAccount', async () => {
    const list = await ok(v, ['auth', 'can-i', '--list', '--as', 'system:serviceaccount:default:reader']);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
    expect(list).not.toMatch(/^\*\.\*/m);
    const admin = await ok(v, ['auth', 'can-i', '--list']);
    expect(admin).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
  });

  it('a user who may not impersonate is refused as the API server refuses it', async () => {
    expect((await k(v, ['auth', 'can-i', 'get', 'pods'], bobConfig)).stdout.trim()).toBe('yes');
    expect((await k(v, ['auth', 'can-i', 'create', 'pods'], bobConfig)).stdout.trim()).toBe('no');
    const r = await k(v, ['get', 'pods', '--as', 'admin'], bobConfig);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('users "admin" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
    const sa = await k(v, ['get', 'pods', '--as', 'system:serviceaccount:default:reader'], bobConfig);
    expect(sa.stderr).toContain('serviceaccounts "reader" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"');
  });
});
