import type { PostgresStore, PostgresStoreOptions } from './postgres/store.ts';

export type * from './types.ts';
export * from './errors.ts';
export { MAX_VALUE_BYTES } from './keys.ts';
export { openSqliteStore, storeDefaults } from './sqlite/store.ts';
export type { SqliteStore, SqliteStoreOptions } from './sqlite/store.ts';
export { restoreSnapshot } from './sqlite/restore.ts';
export { parseEndpoint, describeEndpoint, EndpointError } from './postgres/endpoint.ts';
export type { PostgresEndpoint } from './postgres/endpoint.ts';
export type { PostgresStore, PostgresStoreOptions };
export type { EndpointFiles, SourcedPath } from './postgres/connect.ts';

/** Opens the PostgreSQL store. node-postgres loads only here: a SQLite server never loads it. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  return (await import('./postgres/store.ts')).openPostgresStore(opts);
}
