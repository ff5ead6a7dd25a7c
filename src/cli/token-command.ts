// `edgeos token create|list|delete`: join tokens, managed through the running server's API with
// the admin kubeconfig (the store file is locked while the server runs). Tokens are kube-system
// Secrets of type bootstrap.kubernetes.io/token, as kubeadm keeps them (docs/link.md).
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { InvalidInputError, EdgeosError, errorMessage } from '../common/errors.ts';
import { collect, withConfigFile } from './config-file.ts';

const DEFAULT_KUBECONFIG = '/etc/edgeos/kubeconfig.yaml';

interface TokenFlags {
  readonly kubeconfig?: string;
}

function withKubeconfig(c: Command): Command {
  return withConfigFile(c).option('--kubeconfig <file>', `admin kubeconfig of the server (env KUBECONFIG; default ${DEFAULT_KUBECONFIG})`);
}

export function tokenCommand(): Command {
  const token = new Command('token').description('Manage join tokens');
  token.addCommand(
    withKubeconfig(new Command('create'))
      .description('Create a join token and print it')
      .option('--ttl <duration>', 'lifetime, e.g. 30m, 24h, 7d; 0 = never expires (default 24h)')
      .option('--description <text>', 'what the token is for')
      .option('--server <url>', 'server URL agents dial, repeatable (default: the addresses the server advertises)', collect)
      .action(async (flags: TokenFlags & { ttl?: string; description?: string; server?: string[] }) => {
        process.stdout.write((await createJoinToken(kubeconfigPath(flags), flags)) + '\n');
      }),
  );
  token.addCommand(
    withKubeconfig(new Command('list'))
      .description('List join tokens')
      .action(async (flags: TokenFlags) => {
        process.stdout.write(await listJoinTokens(kubeconfigPath(flags)));
      }),
  );
  token.addCommand(
    withKubeconfig(new Command('delete'))
      .description('Delete (revoke) a join token')
      .argument('<id>', 'the token id (the 6 characters before the dot)')
      .action(async (id: string, flags: TokenFlags) => {
        await deleteJoinToken(kubeconfigPath(flags), id);
        process.stdout.write(`join token ${id} deleted\n`);
      }),
  );
  return token;
}

function kubeconfigPath(flags: TokenFlags): string {
  return flags.kubeconfig ?? (process.env.KUBECONFIG?.split(':')[0] || DEFAULT_KUBECONFIG);
}

interface AdminClient {
  readonly server: string;
  readonly caPem: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

async function adminClient(file: string): Promise<AdminClient> {
  const { parse } = await import('yaml');
  let kc: {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: Record<string, string> }[];
    users?: { name: string; user: Record<string, string> }[];
  };
  try {
    kc = parse(readFileSync(file, 'utf8')) as typeof kc;
  } catch (err) {
    throw new InvalidInputError(`--kubeconfig: cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context'])?.context;
  const cluster = (kc.clusters?.find((c) => c.name === ctx?.cluster) ?? kc.clusters?.[0])?.cluster;
  const user = (kc.users?.find((u) => u.name === ctx?.user) ?? kc.users?.[0])?.user;
  const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  if (!cluster?.server || !cluster['certificate-authority-data'] || !user?.['client-certificate-data'] || !user['client-key-data']) {
    throw new InvalidInputError(`--kubeconfig: ${file} is not an edgeos admin kubeconfig (server, CA and client certificate data are needed)`);
  }
  const server = cluster.server;
  const caPem = dec(cluster['certificate-authority-data']);
  const cert = dec(user['client-certificate-data']);
  const key = dec(user['client-key-data']);
  return {
    server,
    caPem,
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const text = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          new URL(path, server),
          { method, ca: caPem, cert, key, timeout: 15_000, headers: { accept: 'application/json', ...(text ? { 'content-type': 'application/json' } : {}) } },
          (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (data += c));
            res.on('end', () => {
              let parsed: unknown = data;
              try {
                parsed = data ? JSON.parse(data) : undefined;
              } catch {
                /* not JSON */
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
        req.on('error', (err) => reject(new EdgeosError('TOKEN_SERVER_UNREACHABLE', `cannot reach the server at ${server}: ${err.message} (is edgeos server running?)`, { cause: err })));
        req.end(text);
      }),
  };
}

function failed(what: string, r: { status: number; body: unknown }): EdgeosError {
  const m = (r.body as { message?: unknown } | undefined)?.message;
  return new EdgeosError('TOKEN_API_FAILED', `${what}: HTTP ${r.status}${typeof m === 'string' ? `: ${m}` : ''}`);
}

/** "90s", "30m", "24h", "7d", "1h30m"; 0 = never. Returns seconds. */
export function parseTtl(s: string): number {
  if (s.trim() === '0') return 0;
  const re = /(\d+)(s|m|h|d)/g;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  let consumed = '';
  for (const m of s.trim().matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0];
  }
  if (consumed === '' || consumed !== s.trim()) throw new InvalidInputError(`--ttl: ${JSON.stringify(s)} is not a duration such as 30m, 24h or 7d (0 = never expires)`);
  return total;
}

const SECRETS = '/api/v1/namespaces/kube-system/secrets';

async function createJoinToken(file: string, flags: { ttl?: string; description?: string; server?: string[] }): Promise<string> {
  const ttl = parseTtl(flags.ttl ?? '24h');
  for (const s of flags.server ?? []) if (!/^https:\/\/[^/]+/.test(s)) throw new InvalidInputError(`--server: ${JSON.stringify(s)} is not an https URL`);
  const [{ bootstrapSecret, newBootstrapToken }, { caHashOf, encodeJoinToken }, { JOIN_INFO_PATH }] = await Promise.all([
    import('../common/link/bootstrap-secret.ts'),
    import('../common/link/join-token.ts'),
    import('../common/link/join-api.ts'),
  ]);
  const api = await adminClient(file);
  let servers = flags.server ?? [];
  if (servers.length === 0) {
    const info = await api.call('GET', JOIN_INFO_PATH);
    if (info.status !== 200) throw failed('read the server addresses', info);
    servers = (info.body as { servers: string[] }).servers;
  }
  for (;;) {
    const t = newBootstrapToken();
    const secret = bootstrapSecret({
      ...t,
      ...(flags.description ? { description: flags.description } : {}),
      ...(ttl > 0 ? { expiresAt: new Date(Date.now() + ttl * 1000) } : {}),
    });
    const r = await api.call('POST', SECRETS, secret);
    if (r.status === 409) continue; // an id collision: draw again
    if (r.status !== 201) throw failed('create the join token', r);
    return encodeJoinToken({ servers, caHash: caHashOf(api.caPem), tokenId: t.id, tokenSecret: t.secret });
  }
}

async function listJoinTokens(file: string): Promise<string> {
  const { readBootstrapSecret } = await import('../common/link/bootstrap-secret.ts');
  const api = await adminClient(file);
  const r = await api.call('GET', SECRETS);
  if (r.status !== 200) throw failed('list join tokens', r);
  const now = Date.now();
  const rows = [['ID', 'EXPIRES', 'DESCRIPTION']];
  for (const item of (r.body as { items?: Record<string, unknown>[] }).items ?? []) {
    const t = readBootstrapSecret(item);
    if (!t) continue;
    const expires = !t.expiresAt ? '<never>' : t.expiresAt.getTime() <= now ? `expired ${t.expiresAt.toISOString()}` : t.expiresAt.toISOString();
    rows.push([t.id, expires, t.description ?? '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

async function deleteJoinToken(file: string, id: string): Promise<void> {
  if (!/^[a-z0-9]{6}$/.test(id)) throw new InvalidInputError(`${JSON.stringify(id)} is not a token id (6 characters [a-z0-9])`);
  const api = await adminClient(file);
  const r = await api.call('DELETE', `${SECRETS}/bootstrap-token-${id}`);
  if (r.status === 404) throw new EdgeosError('TOKEN_NOT_FOUND', `there is no join token ${id}`);
  if (r.status !== 200 && r.status !== 202) throw failed(`delete join token ${id}`, r);
}
