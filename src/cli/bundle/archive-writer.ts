// Writes the bundle: a gzip-compressed tar with one top directory, streamed file by file (the
// executables are ~100 MB), hashing each file on the way, to a temporary file renamed into place
// only when complete, so an interrupted or failed run never leaves a partial bundle behind.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { Pack } from 'tar-stream';
import type { Progress } from './progress.ts';

export type ArchiveEntry =
  | { readonly path: string; readonly mode: number; readonly file: string; readonly size: number }
  | { readonly path: string; readonly mode: number; readonly data: Buffer };

export interface WrittenFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export function entrySize(e: ArchiveEntry): number {
  return 'data' in e ? e.data.length : e.size;
}

async function writeEntry(tar: Pack, top: string, e: ArchiveEntry, mtime: Date, progress: Progress): Promise<WrittenFile> {
  progress.file(e.path);
  const size = entrySize(e);
  const hash = createHash('sha256');
  let written = 0;
  let sink!: ReturnType<Pack['entry']>;
  const entryDone = new Promise<void>((resolve, reject) => {
    sink = tar.entry({ name: `${top}/${e.path}`, size, mode: e.mode, mtime, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
  });
  entryDone.catch(() => {}); // awaited below
  const chunks: AsyncIterable<Buffer> | Buffer[] = 'data' in e ? [e.data] : createReadStream(e.file, { highWaterMark: 1 << 20 });
  for await (const chunk of chunks) {
    written += chunk.length;
    if (written > size) throw new Error(`${'file' in e ? e.file : e.path} grew while it was being written`);
    hash.update(chunk);
    if (!sink.write(chunk)) await once(sink, 'drain');
    progress.advance(chunk.length);
  }
  if (written !== size) throw new Error(`${'file' in e ? e.file : e.path} changed size while it was being written (${size} → ${written} bytes)`);
  sink.end(null); // streamx types end()'s optional last chunk as required
  await entryDone;
  return { path: e.path, size, sha256: hash.digest('hex') };
}

export interface ArchivePlan {
  /** The one directory everything unpacks into, e.g. edgeos-bundle-0.1.0-linux-amd64. */
  readonly top: string;
  readonly dirs: readonly string[];
  readonly entries: readonly ArchiveEntry[];
  /** Files written last, made from the hashes of everything before them (the manifest). */
  readonly trailer: (written: readonly WrittenFile[]) => ArchiveEntry[];
}

/** Writes `plan` to `output` atomically; returns every file written with its hash. */
export async function writeBundleArchive(output: string, plan: ArchivePlan, progress: Progress): Promise<WrittenFile[]> {
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mtime = new Date();
  const tar = pack();
  const gzip = createGzip({ level: 6 });
  tar.pipe(gzip);
  tar.on('error', (err: Error) => gzip.destroy(err));
  const out = pipeline(gzip, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
  out.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
  // Interrupted (Ctrl-C, a stopped CI job): remove the partial file, then die of the same signal.
  const onSignal = (sig: NodeJS.Signals) => {
    rmSync(tmp, { force: true });
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const d of ['', ...plan.dirs]) {
      tar.entry({ name: `${plan.top}/${d ? `${d}/` : ''}`, type: 'directory', mode: 0o755, mtime, uid: 0, gid: 0 });
    }
    const written: WrittenFile[] = [];
    for (const e of plan.entries) written.push(await writeEntry(tar, plan.top, e, mtime, progress));
    for (const e of plan.trailer(written)) written.push(await writeEntry(tar, plan.top, e, mtime, progress));
    tar.finalize();
    await out;
    // Durable before it becomes visible under its name.
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, output);
    progress.done();
    return written;
  } catch (err) {
    tar.destroy();
    gzip.destroy();
    await out.catch(() => {});
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
