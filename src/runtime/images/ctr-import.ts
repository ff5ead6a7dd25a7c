import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { Logger } from '../../common/log.ts';
import { ImageImportError } from '../errors.ts';

/**
 * Imports image tarballs with containerd's own `ctr images import`, reading the (decompressed)
 * archive from stdin. CRI has no import RPC; ctr ships with containerd, speaks its native API on
 * the same socket, handles docker-archive and OCI layouts, and unpacks into the snapshotter — the
 * same job as K3s's importer without reimplementing the content/images/leases services here.
 */
export interface ImportTarget {
  ctrPath: string;
  /** containerd's native gRPC socket (the private instance's, or the external endpoint). */
  address: string;
  log: Logger;
}

type Compression = 'none' | 'gzip' | 'zstd';

export async function detectCompression(file: string): Promise<Compression> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return 'gzip';
    if (bytesRead === 4 && buffer.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await fh.close();
  }
}

/** Runs ctr with `source` on stdin; returns the image names ctr reports. */
async function runCtrImport(target: ImportTarget, source: Readable, what: string): Promise<string[]> {
  const args = ['--address', target.address, '--namespace', 'k8s.io', 'images', 'import', '-'];
  const child = spawn(target.ctrPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  try {
    await pipeline(source, child.stdin);
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => 1);
    throw new ImageImportError(`import ${what}: ${(err as Error).message}${out ? ` (${out.trim()})` : ''}`, { cause: err });
  }
  let code: number;
  try {
    code = await exited;
  } catch (err) {
    throw new ImageImportError(`import ${what}: cannot run ${target.ctrPath}: ${(err as Error).message}`, { cause: err });
  }
  if (code !== 0) throw new ImageImportError(`import ${what}: ctr exited ${code}: ${out.trim()}`);
  // ctr prints "unpacking <name> (sha256:…)...done" per image.
  return [...out.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)].map((m) => m[1]!);
}

/** Imports one .tar / .tar.gz / .tar.zst (docker-archive or OCI); logs progress for big files. */
export async function importImageFile(target: ImportTarget, file: string, size: number): Promise<string[]> {
  const started = Date.now();
  const compression = await detectCompression(file);
  let read = 0;
  let lastLog = started;
  const progress = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      const now = Date.now();
      if (now - lastLog >= 5000) {
        lastLog = now;
        target.log.info({ file, percent: Math.floor((read / size) * 100), bytes: read, size }, 'importing image archive');
      }
      cb(null, chunk);
    },
  });
  const stages: NodeJS.ReadWriteStream[] = [progress];
  if (compression === 'gzip') stages.push(createGunzip());
  if (compression === 'zstd') stages.push(createZstdDecompress());
  const source = createReadStream(file);
  const decoded = stages.reduce<Readable>((s, t) => s.pipe(t) as unknown as Readable, source);
  for (const s of [source, ...stages]) (s as Readable).on('error', (err) => decoded.destroy(err));
  const images = await runCtrImport(target, decoded, file);
  target.log.info({ file, compression, size, images, ms: Date.now() - started }, 'imported image archive');
  return images;
}

export async function importImageBuffer(target: ImportTarget, archive: Buffer, what: string): Promise<string[]> {
  return runCtrImport(target, Readable.from([archive]), what);
}
