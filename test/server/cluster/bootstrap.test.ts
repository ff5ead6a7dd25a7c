// Founding and joining a cluster through its datastore (src/server/cluster/bootstrap.ts): the CA
// sealed with the server token, opened by a second server, refused with a wrong or missing token.
// The store contract is what bootstrap uses, so a real SQLite store stands for the shared database
// here; test/ha/servers.test.ts runs it against PostgreSQL with real servers.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { open, seal } from '../../../src/server/cluster/bootstrap-crypto.ts';
import { bootstrapCluster } from '../../../src/server/cluster/bootstrap.ts';
import { BOOTSTRAP_KEY } from '../../../src/server/cluster/keys.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeos-bootstrap-'));
let store: Store;
beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:' });
});
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
function server(token?: string) {
  const dir = join(root, `s${++n}`);
  return {
    dir,
    ca: () => readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8'),
    run: () =>
      bootstrapCluster({
        store,
        token: token === undefined ? undefined : { value: token, from: '--token' },
        tokenFile: join(dir, 'server-token'),
        tlsDir: join(dir, 'tls'),
        database: 'the test database',
        log: silentLogger(),
      }),
  };
}

describe('the sealed bootstrap record', () => {
  it('opens with its token only, and any change to it is detected', async () => {
    const sealed = await seal('a-token-of-enough-length', Buffer.from('the CA key'));
    expect(sealed.toString()).not.toContain('the CA key');
    const ok = await open('a-token-of-enough-length', sealed);
    expect(ok.ok && ok.plaintext.toString()).toBe('the CA key');
    expect(await open('another-token-of-enough-length', sealed)).toEqual({ ok: false, why: 'wrong-token' });
    const record = JSON.parse(sealed.toString()) as { data: string };
    const data = Buffer.from(record.data, 'base64');
    data[0]! ^= 1;
    expect(await open('a-token-of-enough-length', Buffer.from(JSON.stringify({ ...record, data: data.toString('base64') })))).toEqual({ ok: false, why: 'wrong-token' });
    expect(await open('a-token-of-enough-length', Buffer.from('not json'))).toEqual({ ok: false, why: 'unreadable' });
  });
});

describe('founding and joining a cluster through the datastore', () => {
  const first = server();

  it('the first server founds it: a new token kept 0600 in its data dir, the CA sealed into the store', async () => {
    expect(await first.run()).toEqual({ role: 'founded' });
    const token = readFileSync(join(first.dir, 'server-token'), 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(join(first.dir, 'server-token')).mode & 0o777).toBe(0o600);
    const kv = await store.get(BOOTSTRAP_KEY);
    const key = readFileSync(join(first.dir, 'tls', 'ca.key'), 'utf8');
    expect(kv!.value.toString()).not.toContain(key.split('\n')[1]!);
    // A restart needs no flag: the kept token opens the record, the CA stays.
    const ca = first.ca();
    expect(await first.run()).toEqual({ role: 'joined' });
    expect(first.ca()).toBe(ca);
  });

  it('a second server joins with the token and gets the same CA', async () => {
    const token = readFileSync(join(first.dir, 'server-token'), 'utf8').trim();
    const second = server(token);
    expect(await second.run()).toEqual({ role: 'joined' });
    expect(second.ca()).toBe(first.ca());
    expect(readFileSync(join(second.dir, 'tls', 'ca.key'), 'utf8')).toBe(readFileSync(join(first.dir, 'tls', 'ca.key'), 'utf8'));
    expect(readFileSync(join(second.dir, 'server-token'), 'utf8').trim()).toBe(token);
  });

  it('no token, a wrong one, or a data dir of another cluster is refused naming what to fix', async () => {
    await expect(server().run()).rejects.toMatchObject({ code: 'SERVER_TOKEN_REQUIRED', message: expect.stringMatching(/^--token: the test database already holds an edgeos cluster/) });
    const wrong = server('not-the-cluster-token-at-all');
    await expect(wrong.run()).rejects.toMatchObject({ code: 'SERVER_TOKEN_MISMATCH', message: expect.stringMatching(/^--token: the server token does not open/) });
    const other = server(readFileSync(join(first.dir, 'server-token'), 'utf8').trim());
    // A data dir that has a CA of its own (another cluster's, or a lone server's).
    const lone = await openSqliteStore({ file: ':memory:' });
    try {
      await bootstrapCluster({ store: lone, token: undefined, tokenFile: join(other.dir, 'server-token'), tlsDir: join(other.dir, 'tls'), database: 'another database', log: silentLogger() });
    } finally {
      await lone.close();
    }
    await expect(other.run()).rejects.toMatchObject({ code: 'SERVER_CLUSTER_MISMATCH', message: expect.stringMatching(/^--data-dir: .* holds the CA of another cluster/) });
  });
});
