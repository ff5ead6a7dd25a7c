// What the arm64 gateway test and bench hand the guest: the arm64 executable (built the way
// `npm run build -- --arch arm64` builds it), an arm64 test image from the guest's own Debian
// busybox-static, and the air-gapped bundle `edgeos bundle create --arch arm64` makes from them,
// on a read-only ext4 disk the guest mounts (a USB stick, in effect).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSea } from '../build/sea-harness.ts';
import { arm64BusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { REPO, transferDisk } from './guest.ts';
import type { GuestImage } from './guest.ts';

export interface Prepared { exe: string; disk: string; bundleSeconds: number; buildSeconds: number }

export function prepareGateway(o: { image: GuestImage; tmp: string; repoTag: string; cmd: string[]; exe?: string; extraFiles?: Record<string, string> }): Prepared {
  const t0 = Date.now();
  const exe = o.exe ?? buildSea(join(o.tmp, 'dist'), ['--arch', 'arm64']);
  const t1 = Date.now();
  const xfer = join(o.tmp, 'xfer');
  mkdirSync(xfer, { recursive: true });
  const imageTar = join(o.tmp, 'busybox-arm64.tar');
  writeFileSync(imageTar, arm64BusyboxArchive(o.image.busybox, o.repoTag, o.cmd));
  const created = spawnSync(process.execPath, [join(REPO, 'src/cli/main.ts'), 'bundle', 'create', '--arch', 'arm64', '--binary', exe, '--image', imageTar, '--output', join(xfer, 'edgeos-bundle.tar.gz')],
    { cwd: o.tmp, encoding: 'utf8', timeout: 900_000, killSignal: 'SIGKILL' });
  if (created.status !== 0) throw new Error(`edgeos bundle create --arch arm64 failed (${created.status ?? created.signal}):\n${created.stdout}\n${created.stderr}`);
  for (const [name, from] of Object.entries(o.extraFiles ?? {})) copyFileSync(from, join(xfer, name));
  const disk = transferDisk(xfer, join(o.tmp, 'xfer.img'));
  return { exe, disk, buildSeconds: (t1 - t0) / 1000, bundleSeconds: (Date.now() - t1) / 1000 };
}

/** In the guest: the bundle from the disk to /root/edgeos-bundle (copied, then unpacked, as a user would). */
export const UNPACK_BUNDLE = 'mount -o ro /dev/vdb /mnt && cp /mnt/edgeos-bundle.tar.gz /root/ && cd /root && tar -xzf edgeos-bundle.tar.gz && rm edgeos-bundle.tar.gz';
