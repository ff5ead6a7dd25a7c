// `edgeos server --datastore-endpoint postgres://…`: the real server process on a real PostgreSQL
// that the test starts (test/helpers/postgres.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../../helpers/postgres.ts';
import type { TestPostgres } from '../../helpers/postgres.ts';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';
import { freePort, killChild, startEdgeos } from './helpers.ts';
import type { Child } from './helpers.ts';

let pg: TestPostgres;
let tmp: string;
beforeAll(async () => {
  pg = await startPostgres();
  tmp = mkdtempSync(join(tmpdir(), 'edgeos-pgserver-'));
});
afterAll(async () => {
  await pg?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

const configMap = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } });

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('edgeos server on PostgreSQL', () => {
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('serves the API from PostgreSQL; /readyz turns red when the database goes away and green when it is back', async () => {
    const db = await pg.createDatabase('srv');
    // The password in the URL on the command line, logging at trace: the worst case for a leak.
    server = await startServer({ extraArgs: ['--datastore-endpoint', pg.url(db, { sslmode: 'require' }), '--log-level', 'trace'] });
    const created = await server.request('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('before'), headers: { 'content-type': 'application/json' } });
    expect(created.status, created.body).toBe(201);
    expect(pg.psql(db, `SELECT count(*) FROM edgeos_kv WHERE name = '/registry/configmaps/default/before'`)).toBe('1');
    expect(pg.psql(db, `SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '${db}' AND s.ssl`)).not.toBe('0');

    await pg.stop();
    const s = server;
    await until('/readyz to fail', async () => (await s.request('GET', '/readyz?verbose')).status === 500, 15_000);
    const red = await s.request('GET', '/readyz?verbose');
    expect(red.body).toContain('[-]store failed: reason withheld');
    expect((await s.request('GET', '/livez')).status).toBe(200); // not dead: waiting for its database

    await pg.restart();
    await until('/readyz to pass again', async () => (await s.request('GET', '/readyz')).status === 200, 20_000);
    const after = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('after'), headers: { 'content-type': 'application/json' } });
    expect(after.status, after.body).toBe(201);
    const list = JSON.parse((await s.request('GET', '/api/v1/namespaces/default/configmaps')).body) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((i) => i.metadata.name)).toEqual(expect.arrayContaining(['before', 'after']));

    const out = s.output();
    expect(out).toContain('lost the database connection');
    expect(out).toContain('database connection restored');
    expect(out).not.toContain(pg.password);
    expect(out).not.toContain(encodeURIComponent(pg.password));
  });
});

describe('edgeos server with a database it cannot use', () => {
  const children: Child[] = [];
  afterAll(() => children.forEach(killChild));

  async function failsToStart(args: string[], env: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const c = startEdgeos(
      ['server', '--data-dir', join(tmp, `data-${port}`), '--bind-address', '127.0.0.1', '--https-listen-port', String(port), '--disable-agent', '--write-kubeconfig', join(tmp, `kc-${port}.yaml`), ...args],
      env,
    );
    children.push(c);
    expect(await c.exited, c.stderr()).toBe(1);
    return c.stderr() + c.stdout();
  }

  it('exits 1 with one message naming the flag and the host, never the password', async () => {
    const refused = await failsToStart(['--datastore-endpoint', 'postgres://edge:Sekrit-Pw-1@127.0.0.1:1/edgeos?sslmode=disable']);
    expect(refused).toContain('edgeos: --datastore-endpoint: cannot use PostgreSQL at 127.0.0.1:1 (database edgeos, user edge): connection refused');
    expect(refused).not.toContain('Sekrit');

    const db = await pg.createDatabase('wrongpw');
    const wrong = await failsToStart([], { EDGEOS_DATASTORE_ENDPOINT: `postgres://${pg.user}:Sekrit-Pw-2@127.0.0.1:${pg.port}/${db}` });
    expect(wrong).toMatch(new RegExp(`edgeos: EDGEOS_DATASTORE_ENDPOINT: cannot use PostgreSQL at 127\\.0\\.0\\.1:${pg.port} .*password authentication failed`));
    expect(wrong).not.toContain('Sekrit');

    const malformed = await failsToStart(['--datastore-endpoint', 'postgres://edge:Sekrit-Pw-3@db.example:99999/x']);
    expect(malformed).toContain('edgeos: --datastore-endpoint: is not a valid URL');
    expect(malformed).not.toContain('Sekrit');
  });
});
