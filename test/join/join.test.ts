// `edgeos token` and `edgeos join` as processes against the real server: a good token joins
// (kubectl shows the Node with its labels and taints); an expired, deleted or wrong-cluster token,
// and a taken node name, fail with a clear message, a non-zero exit and an empty data dir.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJoinToken, encodeJoinToken } from '../../src/common/link/join-token.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { REPO, serverProcess, sleep, waitFor } from '../link/harness.ts';
import type { ServerProcess } from '../link/harness.ts';

let server: ServerProcess;
const children: number[] = [];

function edgeos(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, timeout: timeoutMs, env: { ...process.env, EDGEOS_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : 1) : 0, stdout, stderr });
    });
  });
}

async function fetchStatus(url: string, bearer: string, dir: string): Promise<number> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const ca = readFileSync(join(dir, 'data', 'server', 'tls', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const emptyOrMissing = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;

beforeAll(async () => {
  server = await serverProcess();
});

afterAll(async () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await server?.dispose();
});

describe('edgeos token', () => {
  it('creates, lists and deletes join tokens through the API', async () => {
    const created = await edgeos(['token', 'create', '--kubeconfig', server.kubeconfig, '--ttl', '2h', '--description', 'for the lab']);
    expect(created.code, created.stderr).toBe(0);
    const t = decodeJoinToken(created.stdout.trim());
    expect(t.servers).toEqual([server.url]);
    const listed = await edgeos(['token', 'list', '--kubeconfig', server.kubeconfig]);
    expect(listed.stdout).toMatch(new RegExp(`${t.tokenId}\\s+\\S+\\s+for the lab`));
    // The secret itself is never listed.
    expect(listed.stdout).not.toContain(t.tokenSecret);
    const secret = await server.api('GET', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${t.tokenId}`);
    expect(secret.body.type).toBe('bootstrap.kubernetes.io/token');
    expect((await edgeos(['token', 'delete', '--kubeconfig', server.kubeconfig, t.tokenId])).code).toBe(0);
    expect((await edgeos(['token', 'list', '--kubeconfig', server.kubeconfig])).stdout).not.toContain(t.tokenId);
    const again = await edgeos(['token', 'delete', '--kubeconfig', server.kubeconfig, t.tokenId]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`there is no join token ${t.tokenId}`);
  });

  it('wrote a default join token (0600) at first start', async () => {
    const { statSync } = await import('node:fs');
    const st = statSync(join(server.dir, 'data', 'server', 'token'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(decodeJoinToken(server.token()).servers).toContain(server.url);
  });
});

describe('edgeos join', () => {
  it('joins with a good token: the Node appears with its labels and taints, the key stays private', async () => {
    const dataDir = join(server.dir, 'good');
    const child = spawn(
      process.execPath,
      [join(REPO, 'src/cli/main.ts'), 'join', server.token(), '--data-dir', dataDir, '--node-name', 'edge-good', '--node-label', 'site=lab', '--node-taint', 'dedicated=edge:NoSchedule', '--disable-runtime'],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEOS_LOG_LEVEL: 'info' } },
    );
    children.push(child.pid!);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      await waitFor(`the node in kubectl get nodes\n${out}`, async () => {
        const r = await kubectl(server, ['get', 'nodes', 'edge-good', '-o', 'json']);
        return r.code === 0 ? (JSON.parse(r.stdout) as { metadata: { labels: Record<string, string> }; spec: { taints?: unknown[] } }) : undefined;
      }).then((node) => {
        expect(node.metadata.labels.site).toBe('lab');
        expect(node.metadata.labels['kubernetes.io/hostname']).toBe('edge-good');
        expect(node.spec.taints).toEqual([{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }]);
      });
      const table = await kubectl(server, ['get', 'nodes']);
      expect(table.stdout).toMatch(/edge-good/);
      await waitFor('the agent link', () => (/agent connected/.test(server.output()) && /"node":"edge-good"/.test(server.output()) ? true : undefined));
      const { statSync, readFileSync } = await import('node:fs');
      const keyFile = join(dataDir, 'agent', 'node', 'client.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      // The key never left the device: it is in no server file or log.
      const keyBody = readFileSync(keyFile, 'utf8').split('\n')[1]!;
      expect(server.output()).not.toContain(keyBody);
      // The joined process became `edgeos agent` (same pid): without the join's libraries, and
      // without the token on its command line.
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline.slice(cmdline.indexOf(join(REPO, 'src/cli/main.ts')) + 1, -1)).toEqual(
        ['agent', '--data-dir', dataDir, '--node-name', 'edge-good', '--node-label', 'site=lab', '--node-taint', 'dedicated=edge:NoSchedule', '--disable-runtime']);
      expect(cmdline.join(' ')).not.toContain(server.token());
    } finally {
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
    expect(child.exitCode).toBe(0);
    expect(out).toContain('joined as node edge-good');
    // The server's registry logged the link going away.
    await waitFor('the disconnect in the server log', () => (/"node":"edge-good".*"msg":"agent disconnected"/.test(server.output()) ? true : undefined), 10_000);
  });

  it('refuses a second join under a taken node name, leaving nothing behind', async () => {
    const dataDir = join(server.dir, 'taken');
    const r = await edgeos(['join', server.token(), '--data-dir', dataDir, '--node-name', 'edge-good', '--disable-runtime']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('node "edge-good" is already joined');
    expect(emptyOrMissing(dataDir)).toBe(true);
  });

  it('refuses an expired token', async () => {
    const created = await edgeos(['token', 'create', '--kubeconfig', server.kubeconfig, '--ttl', '1s']);
    expect(created.code, created.stderr).toBe(0);
    await sleep(1500);
    const dataDir = join(server.dir, 'expired');
    const r = await edgeos(['join', created.stdout.trim(), '--data-dir', dataDir, '--node-name', 'edge-expired', '--disable-runtime']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the server refused the join token: the join token [a-z0-9]{6} expired at/);
    expect(emptyOrMissing(dataDir)).toBe(true);
    expect((await kubectl(server, ['get', 'node', 'edge-expired'])).code).not.toBe(0);
  });

  it('refuses a deleted token and a wrong secret', async () => {
    const created = await edgeos(['token', 'create', '--kubeconfig', server.kubeconfig]);
    const t = decodeJoinToken(created.stdout.trim());
    const wrong = encodeJoinToken({ ...t, tokenSecret: 'a'.repeat(16) });
    const dataDir = join(server.dir, 'wrong');
    const r1 = await edgeos(['join', wrong, '--data-dir', dataDir, '--node-name', 'edge-wrong', '--disable-runtime']);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('the join token is not valid');
    expect((await edgeos(['token', 'delete', '--kubeconfig', server.kubeconfig, t.tokenId])).code).toBe(0);
    const r2 = await edgeos(['join', created.stdout.trim(), '--data-dir', dataDir, '--node-name', 'edge-wrong', '--disable-runtime']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('the join token is not valid');
    expect(emptyOrMissing(dataDir)).toBe(true);
  });

  it('refuses a server whose CA does not match the token, before sending the secret', async () => {
    const t = decodeJoinToken(server.token());
    const otherCluster = encodeJoinToken({ ...t, caHash: 'sha256:' + '0'.repeat(64) });
    const dataDir = join(server.dir, 'mismatch');
    const before = server.output().length;
    const r = await edgeos(['join', otherCluster, '--data-dir', dataDir, '--node-name', 'edge-mismatch', '--disable-runtime']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is not the one the join token names .* Nothing was sent to the server/);
    expect(emptyOrMissing(dataDir)).toBe(true);
    // The server saw no join attempt at all.
    expect(server.output().slice(before)).not.toMatch(/join refused|node joined/);
  });

  it('gives the bootstrap token no access to the Kubernetes API (it may only join)', async () => {
    const t = decodeJoinToken(server.token());
    const r = await fetchStatus(`${server.url}/api/v1/nodes`, `${t.tokenId}.${t.tokenSecret}`, server.dir);
    expect(r).toBe(401);
  });

  it('rejects a malformed token without echoing it', async () => {
    const r = await edgeos(['join', 'K10abc::server:secretvalue', '--data-dir', join(server.dir, 'bad'), '--node-name', 'x', '--disable-runtime']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the join token is not valid');
    expect(r.stderr).not.toContain('secretvalue');
  });

  it('`edgeos agent` on an unjoined data dir says to join first', async () => {
    const r = await edgeos(['agent', '--data-dir', join(server.dir, 'never-joined'), '--disable-runtime']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('holds no joined node');
  });
});
