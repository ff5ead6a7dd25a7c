// Child process for crash.test.ts: writes a stream of creates, updates and deletes and prints one
// line per acknowledged write (after the store's promise resolved). The parent SIGKILLs it.
import { once } from 'node:events';
import { openSqliteStore } from '../../src/store/index.ts';

// stdout is a socket to the parent: when the parent reads slowly, writes queue and only flush when
// the event loop turns. The store's promises resolve as microtasks, so wait for 'drain' explicitly.
async function ack(line: string): Promise<void> {
  if (!process.stdout.write(line)) await once(process.stdout, 'drain');
}

const file = process.argv[2]!;
const store = await openSqliteStore({ file });
let i = 0;
for (;;) {
  const key = `/crash/${i % 97}`;
  const value = Buffer.from(`v${i}`);
  let kv;
  try {
    kv = await store.update(key, value);
  } catch {
    kv = await store.create(key, value);
  }
  await ack(`ack ${kv.modRevision} ${key} v${i}\n`);
  if (i % 13 === 0) {
    const d = await store.delete(`/crash/${(i + 5) % 97}`).catch(() => undefined);
    if (d) await ack(`del ${d.modRevision} ${d.key}\n`);
  }
  i++;
}
