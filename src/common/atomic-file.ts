// The one way edgeos writes a config or state file on a device: a temporary file in the same
// directory, fsync, rename over the target, fsync the directory. A crash or power cut then leaves
// either the old or the new file, never half of one, and never a rename the disk forgot.
// writePayload is the directory form of the same guarantee, for the kubelet's volumes.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `file` with `mode`; missing directories are created private (0700). */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // The mode is set at open, so a private key is never readable by others, not even briefly.
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}

/** Makes the entries of `dir` (a rename, a new link) durable. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function fsyncDirectoryAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface PayloadFile {
  data: Buffer;
  mode: number;
}

/** Rejects item paths that are absolute or climb out of the volume (kubelet's validatePath). */
export function checkItemPath(p: string): void {
  if (!p || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '') || p.startsWith('..')) {
    throw new Error(`invalid item path "${p}": must be relative, without ".." or empty elements, not starting with ".."`);
  }
}

/**
 * kubelet's AtomicWriter for configMap, secret, downwardAPI and projected volumes: the files live
 * in a hidden directory named after the payload's digest, `..data` is a symlink to it swapped by
 * rename(2), and each top-level entry is a symlink through `..data`. A container therefore sees
 * the old or the new set of files, never a mix, and an unchanged payload is not rewritten. The
 * files and directories are fsynced before the swap, so after a power cut `..data` points at a
 * complete payload. Returns true when the volume changed.
 */
export async function writePayload(dir: string, files: Map<string, PayloadFile>): Promise<boolean> {
  const digest = createHash('sha256');
  for (const p of [...files.keys()].sort()) {
    const f = files.get(p)!;
    digest.update(`${p}\0${f.mode}\0${f.data.length}\0`).update(f.data);
  }
  const target = `..${digest.digest('hex').slice(0, 16)}`;
  // The unchanged case (every pod pass refreshes its volumes) costs one readlink: the directory
  // exists when its `..data` does.
  if ((await readlink(join(dir, '..data')).catch(() => undefined)) === target) return false;
  await mkdir(dir, { recursive: true, mode: 0o755 });

  const tsDir = join(dir, target);
  await rm(tsDir, { recursive: true, force: true });
  await mkdir(tsDir, { mode: 0o755 });
  const dirs = new Set([tsDir]);
  for (const [p, f] of files) {
    checkItemPath(p);
    const file = join(tsDir, p);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    dirs.add(dirname(file));
    const fh = await open(file, 'w');
    try {
      await fh.writeFile(f.data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(file, f.mode);
  }
  for (const d of dirs) await fsyncDirectoryAsync(d);
  const tmp = join(dir, `..data_tmp_${randomBytes(4).toString('hex')}`);
  await symlink(target, tmp);
  await rename(tmp, join(dir, '..data'));

  const top = new Set([...files.keys()].map((p) => p.split('/')[0]!));
  for (const name of top) {
    await symlink(join('..data', name), join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  await fsyncDirectoryAsync(dir);
  for (const entry of await readdir(dir)) {
    if (entry === '..data' || entry === target) continue;
    if (entry.startsWith('..') || !top.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
  return true;
}
