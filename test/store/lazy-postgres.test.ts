// A SQLite server must not load node-postgres: only opening a PostgreSQL store imports it.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { openPostgresStore, openSqliteStore, parseEndpoint } from '../../src/store/index.ts';

const loadedPg = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/pg/'));

it('loads pg only when a PostgreSQL store is opened', async () => {
  const sqlite = await openSqliteStore({ file: ':memory:' });
  await sqlite.create('/a', Buffer.from('1'));
  await sqlite.close();
  expect(loadedPg()).toBe(false);
  await expect(openPostgresStore({ endpoint: parseEndpoint('postgres://edge@127.0.0.1:1/x?sslmode=disable', '--datastore-endpoint') })).rejects.toThrow(/connection refused/);
  expect(loadedPg()).toBe(true);
});
