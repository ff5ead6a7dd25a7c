// `edgeos store …`: maintenance of the server's store file while the server is stopped (the file
// is locked while it runs; a running server's state is copied with its own online snapshot).
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { withConfigFile } from './config-file.ts';

interface StoreFlags {
  dataDir?: string;
}

/** The store file of a data dir; the server opens the same path (src/server/config.ts). */
function dataDirOf(flags: StoreFlags): string {
  return resolve(flags.dataDir ?? process.env.EDGEOS_DATA_DIR ?? '/var/lib/edgeos');
}

function storeFile(flags: StoreFlags): string {
  return join(dataDirOf(flags), 'server', 'db', 'state.db');
}

async function openStore(flags: StoreFlags) {
  const [{ openSqliteStore }, { sqliteNativeBinding }] = await Promise.all([import('../store/index.ts'), import('../common/sea.ts')]);
  return openSqliteStore({ file: storeFile(flags), nativeBinding: sqliteNativeBinding({ dataDir: dataDirOf(flags) }), compactIntervalMs: 3_600_000 });
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function storeCommand(): Command {
  const cmd = new Command('store').description('Inspect, back up and restore the server store (server stopped)');
  const dataDir = ['--data-dir <dir>', 'state directory (env EDGEOS_DATA_DIR; default /var/lib/edgeos)'] as const;

  withConfigFile(cmd.command('stats'))
    .description('Print the revision, history and file sizes of the store')
    .option(...dataDir)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (flags: StoreFlags & { output: string }) => {
      const store = await openStore(flags);
      try {
        const s = await store.stats();
        const keys = await store.count('/');
        if (flags.output === 'json') console.log(JSON.stringify({ file: storeFile(flags), keys, ...s }));
        else
          console.log(
            `${storeFile(flags)}: ${keys} keys at revision ${s.currentRevision} (history from ${s.compactRevision}, ${s.rows} rows); ` +
              `database ${mib(s.dbBytes)}, WAL ${mib(s.walBytes)}`,
          );
      } finally {
        await store.close();
      }
    });

  withConfigFile(cmd.command('snapshot <file>'))
    .description('Write a consistent copy of the store to <file>')
    .option(...dataDir)
    .action(async (file: string, flags: StoreFlags) => {
      const store = await openStore(flags);
      try {
        await store.snapshot(resolve(file));
        console.log(`snapshot of revision ${await store.currentRevision()} written to ${resolve(file)}`);
      } finally {
        await store.close();
      }
    });

  withConfigFile(cmd.command('restore <file>'))
    .description('Replace the store with a snapshot (the old database is kept beside it)')
    .option(...dataDir)
    .action(async (file: string, flags: StoreFlags) => {
      const [{ restoreSnapshot }, { sqliteNativeBinding }] = await Promise.all([import('../store/index.ts'), import('../common/sea.ts')]);
      const r = restoreSnapshot(resolve(file), storeFile(flags), sqliteNativeBinding({ dataDir: dataDirOf(flags) }));
      console.log(`restored revision ${r.revision} into ${storeFile(flags)}` + (r.previous ? `; the previous database is kept as ${r.previous}` : ''));
    });

  withConfigFile(cmd.command('compact'))
    .description('Compact history now by the retention policy and return free pages to the file system')
    .option(...dataDir)
    .action(async (flags: StoreFlags) => {
      const store = await openStore(flags);
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
