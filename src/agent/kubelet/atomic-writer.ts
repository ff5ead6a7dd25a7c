import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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
 * the old or the new set of files, never a mix, and an unchanged payload is not rewritten.
 * Returns true when the volume changed.
 */
export async function writePayload(dir: string, files: Map<string, PayloadFile>): Promise<boolean> {
  const digest = createHash('sha256');
  for (const p of [...files.keys()].sort()) {
    const f = files.get(p)!;
    digest.update(`${p}\0${f.mode}\0${f.data.length}\0`).update(f.data);
  }
  const target = `..${digest.digest('hex').slice(0, 16)}`;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const current = await readlink(join(dir, '..data')).catch(() => undefined);
  if (current === target) return false;

  const tsDir = join(dir, target);
  await rm(tsDir, { recursive: true, force: true });
  await mkdir(tsDir, { mode: 0o755 });
  for (const [p, f] of files) {
    checkItemPath(p);
    const file = join(tsDir, p);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, f.data);
    await chmod(file, f.mode);
  }
  const tmp = join(dir, `..data_tmp_${randomBytes(4).toString('hex')}`);
  await symlink(target, tmp);
  await rename(tmp, join(dir, '..data'));

  const top = new Set([...files.keys()].map((p) => p.split('/')[0]!));
  for (const name of top) {
    await symlink(join('..data', name), join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  for (const entry of await readdir(dir)) {
    if (entry === '..data' || entry === target) continue;
    if (entry.startsWith('..') || !top.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
  return true;
}
