import { afterAll, beforeAll } from 'vitest';
import { openPostgresStore, parseEndpoint } from '../../src/store/index.ts';
import { startPostgres } from '../helpers/postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import { describeStoreConformance } from './conformance.ts';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.destroy();
});

describeStoreConformance('postgres', async (opts) => {
  const db = await pg.createDatabase('conf');
  const store = await openPostgresStore({ endpoint: parseEndpoint(pg.url(db), '--datastore-endpoint'), compactIntervalMs: 3_600_000, ...opts });
  return { store, cleanup: () => store.close() };
});
