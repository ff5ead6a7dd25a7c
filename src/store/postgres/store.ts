import pg from 'pg';
import type { Logger } from '../../common/log.ts';
import { silentLogger } from '../../common/log.ts';
import { DatabaseError } from '../errors.ts';
import { Maintenance, retentionDefaults } from '../maintenance.ts';
import type { RetentionPolicy } from '../maintenance.ts';
import type { Store } from '../types.ts';
import { PostgresBackend } from './backend.ts';
import { connectFailure, connectionFor, probe, unavailableAtStart, withSettings } from './connect.ts';
import type { Connection, EndpointFiles } from './connect.ts';
import type { PostgresEndpoint } from './endpoint.ts';
import { LOCK_CLASS, SCHEMA_LOCK, SCHEMA_VERSION, functionsSql, tablesSql } from './schema.ts';

export interface PostgresStoreOptions extends Partial<RetentionPolicy> {
  endpoint: PostgresEndpoint;
  /** CA, client certificate and password files (--datastore-cafile, …). */
  files?: EndpointFiles;
  log?: Logger;
  /** Idle watches get a progress message (bookmark) this often. */
  progressIntervalMs?: number;
  /** How often the listening connection checks that the database answers. */
  heartbeatMs?: number;
  /** Connections for reads and writes (plus one listening and one for maintenance). */
  poolSize?: number;
  /** The better-sqlite3 addon for snapshots (the single executable extracts its own). */
  sqliteBinding?: () => object | undefined;
  /** false: never compact or expire keys, nor take part in the election (`edgeos store stats`). */
  maintenance?: boolean;
}

export const postgresDefaults = {
  progressIntervalMs: 10_000,
  heartbeatMs: 2000,
  poolSize: 10,
  ...retentionDefaults,
};

export type PostgresStore = Store & {
  /** Run one compaction decision / TTL sweep now (tests); a no-op on a server that does not lead. */
  readonly maintenance: Pick<Maintenance, 'tick' | 'sweepExpired'>;
  /** Whether this server currently compacts and expires keys (holds the maintenance lock). */
  readonly leadsMaintenance: () => boolean;
};

/**
 * Creates the tables and functions when the database has none, under an advisory lock so that
 * servers starting together do not race (concurrent CREATE … IF NOT EXISTS can fail in
 * PostgreSQL). A database written by a newer edgeos is refused.
 */
async function ensureSchema(c: Connection): Promise<void> {
  const client = new pg.Client(c.config);
  client.on('error', () => {}); // surfaces through the failing query
  try {
    await client.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, SCHEMA_LOCK]);
    const exists = (await client.query<{ ok: boolean }>(`SELECT to_regclass('edgeos_meta') IS NOT NULL AS ok`)).rows[0]!.ok;
    const version = exists
      ? ((await client.query<{ value: number }>(`SELECT value FROM edgeos_meta WHERE key = 'schema_version'`)).rows[0]?.value ?? 0)
      : 0;
    if (version > SCHEMA_VERSION) {
      throw new DatabaseError(
        'STORE_SCHEMA',
        c.description,
        `${c.endpoint.from}: ${c.description} was written by a newer edgeos (schema ${version}, this one knows ${SCHEMA_VERSION}); upgrade edgeos`,
      );
    }
    if (version < SCHEMA_VERSION) {
      await client.query(tablesSql);
      await client.query(functionsSql);
      await client.query(
        `INSERT INTO edgeos_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [SCHEMA_VERSION],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    if (err instanceof DatabaseError) throw err;
    if ((err as { code?: string }).code === '42501') {
      throw new DatabaseError('STORE_OPEN_FAILED', c.description, `${c.endpoint.from}: cannot create the edgeos tables in ${c.description}: ${connectFailure(err, c)}`, { cause: err });
    }
    throw unavailableAtStart(err, c);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Opens the store on PostgreSQL: checks the endpoint with one connection (a clear error naming the
 * flag and the host when it cannot be used), creates the schema if needed, starts the watch feed and
 * takes part in the election of the server that compacts and expires keys.
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const log = (opts.log ?? silentLogger()).child({ component: 'store' });
  const o = { ...postgresDefaults, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  const connection = await probe(connectionFor(opts.endpoint, opts.files));
  await ensureSchema(connection);
  const pool = new pg.Pool(withSettings(connection.config, { max: o.poolSize, idleTimeoutMillis: 30_000 }));
  // An idle pooled connection that the database closes emits here; the next query reconnects.
  pool.on('error', (err) => log.debug({ reason: connectFailure(err, connection) }, 'an idle database connection closed'));
  const backend = new PostgresBackend({
    connection,
    pool,
    log,
    progressIntervalMs: o.progressIntervalMs,
    heartbeatMs: o.heartbeatMs,
    ...(opts.sqliteBinding ? { sqliteBinding: opts.sqliteBinding } : {}),
  });
  try {
    await backend.start();
  } catch (err) {
    await backend.close();
    throw unavailableAtStart(err, connection);
  }
  const maintenance = new Maintenance(
    backend,
    { retainRevisions: o.retainRevisions, retainMs: o.retainMs, compactIntervalMs: o.compactIntervalMs, ttlSweepIntervalMs: o.ttlSweepIntervalMs },
    log,
  );
  if (opts.maintenance !== false) await maintenance.start();
  log.info(
    { database: connection.description, tls: connection.config.ssl ? connection.sslmode : 'off', revision: backend.revision, compacted: backend.compactedRevision, maintenance: backend.leader.leading },
    'store open',
  );
  const close = backend.close.bind(backend);
  return Object.assign(backend, {
    maintenance,
    leadsMaintenance: () => backend.leader.leading,
    close: async () => {
      await maintenance.stop();
      await close();
    },
  });
}
