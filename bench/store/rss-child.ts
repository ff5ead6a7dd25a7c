// Opens the 100k-key store given on the command line (`sqlite <file>` or `postgres <url>`), serves
// reads from it (20k random gets, a page of a list, a count), and prints the process RSS in bytes:
// the memory of a process holding the store open. Run bundled (see ../bundle-entry.ts), as the
// product runs.
import { openPostgresStore, openSqliteStore, parseEndpoint } from '../../src/store/index.ts';
import { FILL, keyOf } from './keys.ts';

const [backend, target] = process.argv.slice(2) as [string, string];
const store =
  backend === 'postgres'
    ? await openPostgresStore({ endpoint: parseEndpoint(target, 'bench'), compactIntervalMs: 3_600_000 })
    : await openSqliteStore({ file: target, compactIntervalMs: 3_600_000 });
const n = await store.count('/registry/pods/');
if (n < FILL) throw new Error(`expected ${FILL} keys, found ${n}`);
await store.list('/registry/pods/', { limit: 500 });
for (let i = 0; i < 20_000; i++) {
  if (!(await store.get(keyOf(Math.floor(Math.random() * FILL))))) throw new Error('a filled key is missing');
}
(globalThis as { gc?: () => void }).gc?.();
await new Promise((r) => setTimeout(r, 200));
console.log(process.memoryUsage().rss);
await store.close();
