export type * from './types.ts';
export * from './errors.ts';
export { MAX_VALUE_BYTES } from './keys.ts';
export { openSqliteStore, storeDefaults } from './sqlite/store.ts';
export type { SqliteStore, SqliteStoreOptions } from './sqlite/store.ts';
export { restoreSnapshot } from './sqlite/restore.ts';
