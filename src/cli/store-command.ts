// `edgeos store …`: maintenance of the server's store. For SQLite, the file under --data-dir while
// the server is stopped (the file is locked while it runs; a running server's state is copied with
// its own online snapshot). With --datastore-endpoint, `stats` and `snapshot` read the PostgreSQL
// database while servers keep running on it; `restore` and `compact` refuse it (docs/store.md).
import { resolve } from 'node:path';
import { Command } from 'commander';
import { InvalidInputError } from '../common/errors.ts';
import type { RawServerFlags } from '../server/config.ts';
import { withConfigFile } from './config-file.ts';

type StoreFlags = Pick<RawServerFlags, 'dataDir' | 'datastoreEndpoint' | 'datastoreCafile' | 'datastoreCertfile' | 'datastoreKeyfile' | 'datastorePasswordFile'>;

/** Where the server keeps its store: the same resolution as `edgeos server` (src/server/config.ts). */
async function storeConfig(flags: StoreFlags) {
  const { resolveServerConfig } = await import('../server/config.ts');
  const c = resolveServerConfig(flags, process.env, process.cwd());
  return { dataDir: c.dataDir, file: c.paths.dbFile, datastore: c.datastore };
}

async function openStore(flags: StoreFlags) {
  const [{ openSqliteStore, openPostgresStore, describeEndpoint }, { sqliteNativeBinding }] = await Promise.all([import('../store/index.ts'), import('../common/sea.ts')]);
  const { dataDir, file, datastore } = await storeConfig(flags);
  const nativeBinding = () => sqliteNativeBinding({ dataDir });
  if (datastore) {
    const store = await openPostgresStore({ ...datastore, maintenance: false, sqliteBinding: nativeBinding });
    return { store, where: describeEndpoint(datastore.endpoint) };
  }
  return { store: await openSqliteStore({ file, nativeBinding: nativeBinding(), compactIntervalMs: 3_600_000 }), where: file };
}

/** restore and compact work on the SQLite file of a stopped server only. */
async function refusePostgres(flags: StoreFlags, what: string): Promise<void> {
  const { datastore } = await storeConfig(flags);
  if (datastore) throw new InvalidInputError(`${datastore.endpoint.from}: ${what}`);
}

const datastoreOptions = (c: Command) =>
  c
    .option('--datastore-endpoint <url>', 'the PostgreSQL store of `edgeos server --datastore-endpoint` (env EDGEOS_DATASTORE_ENDPOINT)')
    .option('--datastore-cafile <file>', 'CA of the PostgreSQL server certificate (env EDGEOS_DATASTORE_CAFILE)')
    .option('--datastore-certfile <file>', 'client certificate for PostgreSQL (env EDGEOS_DATASTORE_CERTFILE)')
    .option('--datastore-keyfile <file>', 'key of the client certificate (env EDGEOS_DATASTORE_KEYFILE)')
    .option('--datastore-password-file <file>', 'file holding the PostgreSQL password (env EDGEOS_DATASTORE_PASSWORD_FILE)');

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function storeCommand(): Command {
  const cmd = new Command('store').description('Inspect, back up and restore the server store (SQLite: server stopped)');
  const dataDir = ['--data-dir <dir>', 'state directory (env EDGEOS_DATA_DIR; default /var/lib/edgeos)'] as const;

  datastoreOptions(withConfigFile(cmd.command('stats')))
    .description('Print the revision, history and size of the store')
    .option(...dataDir)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (flags: StoreFlags & { output: string }) => {
      const { store, where } = await openStore(flags);
      try {
        const s = await store.stats();
        const keys = await store.count('/');
        if (flags.output === 'json') console.log(JSON.stringify({ file: where, keys, ...s }));
        else
          console.log(
            `${where}: ${keys} keys at revision ${s.currentRevision} (history from ${s.compactRevision}, ${s.rows} rows); ` +
              `database ${mib(s.dbBytes)}, WAL ${mib(s.walBytes)}`,
          );
      } finally {
        await store.close();
      }
    });

  datastoreOptions(withConfigFile(cmd.command('snapshot <file>')))
    .description('Write a consistent copy of the store to <file> (a SQLite store file, also from PostgreSQL)')
    .option(...dataDir)
    .action(async (file: string, flags: StoreFlags) => {
      const { store } = await openStore(flags);
      try {
        const revision = await store.snapshot(resolve(file));
        console.log(`snapshot of revision ${revision} written to ${resolve(file)}`);
      } finally {
        await store.close();
      }
    });

  datastoreOptions(withConfigFile(cmd.command('restore <file>')))
    .description('Replace the SQLite store with a snapshot (the old database is kept beside it)')
    .option(...dataDir)
    .action(async (file: string, flags: StoreFlags) => {
      await refusePostgres(flags, 'restore writes the SQLite store of --data-dir; a PostgreSQL database is restored with pg_restore (omit the endpoint to move the cluster into SQLite)');
      const [{ restoreSnapshot }, { sqliteNativeBinding }] = await Promise.all([import('../store/index.ts'), import('../common/sea.ts')]);
      const { dataDir: dir, file: dbFile } = await storeConfig(flags);
      const r = restoreSnapshot(resolve(file), dbFile, sqliteNativeBinding({ dataDir: dir }));
      console.log(`restored revision ${r.revision} into ${dbFile}` + (r.previous ? `; the previous database is kept as ${r.previous}` : ''));
    });

  datastoreOptions(withConfigFile(cmd.command('compact')))
    .description('Compact SQLite history now by the retention policy and return free pages to the file system')
    .option(...dataDir)
    .action(async (flags: StoreFlags) => {
      await refusePostgres(flags, 'on PostgreSQL the server holding the maintenance lock compacts by the retention policy every 30 s');
      const { store } = await openStore(flags);
      try {
        const before = await store.stats();
        await store.maintenance.tick();
        const after = await store.stats();
        console.log(`compacted to revision ${after.compactRevision}: ${before.rows - after.rows} rows removed, database ${mib(before.dbBytes)} → ${mib(after.dbBytes)}`);
      } finally {
        await store.close();
      }
    });
  return cmd;
}
