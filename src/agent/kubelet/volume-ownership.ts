// The pod's fsGroup on its volumes, as kubelet's SetVolumeOwnership (pkg/volume/volume_linux.go)
// does it: every file and directory of the volume gets group fsGroup, read/write for the group
// (read-only volumes: read), directories also execute and setgid — so files created later inherit
// the group, and a non-root container that runs with fsGroup among its supplementary groups can
// write there. fsGroupChangePolicy OnRootMismatch skips the walk when the volume's root already has
// the group and those bits; Always (the default) walks every time the volume is set up for a pod.
import type { Stats } from 'node:fs';
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

export type FsGroupChangePolicy = 'Always' | 'OnRootMismatch';

/** The bits one entry must have (kubelet's changeFilePermission). */
function wantedMode(st: Stats, readOnly: boolean): number {
  const mask = readOnly ? RO_MASK : RW_MASK;
  return st.isDirectory() ? mask | EXEC_MASK | SETGID : mask;
}

/** kubelet's requiresPermissionChange: the root's group, its group bits and setgid. */
async function rootMatches(dir: string, gid: number, readOnly: boolean): Promise<boolean> {
  const st = await lstat(dir);
  if (st.gid !== gid || !st.isDirectory()) return false;
  const want = wantedMode(st, readOnly);
  return (st.mode & want) === want;
}

async function changeOne(path: string, st: Stats, gid: number, readOnly: boolean): Promise<void> {
  if (st.gid !== gid) await lchown(path, -1, gid);
  // Symbolic links have no mode of their own (chmod would follow them out of the volume).
  if (st.isSymbolicLink()) return;
  const want = wantedMode(st, readOnly);
  const mode = st.mode & 0o7777;
  if ((mode & want) !== want) await chmod(path, mode | want);
}

async function walk(path: string, gid: number, readOnly: boolean): Promise<void> {
  const st = await lstat(path);
  await changeOne(path, st, gid, readOnly);
  if (!st.isDirectory()) return;
  for (const entry of await readdir(path)) await walk(join(path, entry), gid, readOnly);
}

/**
 * Gives `dir` and everything below it to group `gid` (see above). Returns false when
 * OnRootMismatch found nothing to do.
 */
export async function setVolumeOwnership(dir: string, gid: number, opts: { readOnly?: boolean; policy?: FsGroupChangePolicy } = {}): Promise<boolean> {
  const readOnly = opts.readOnly ?? false;
  if (opts.policy === 'OnRootMismatch' && (await rootMatches(dir, gid, readOnly))) return false;
  await walk(dir, gid, readOnly);
  return true;
}
