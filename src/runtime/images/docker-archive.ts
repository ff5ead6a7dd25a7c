import { createHash } from 'node:crypto';
import { tarArchive } from './tar-writer.ts';
import type { TarEntry } from './tar-writer.ts';

export type ImageArch = 'amd64' | 'arm64';

export interface ImageSpecInput {
  /** e.g. "edgeos.local/pause:1". */
  repoTag: string;
  arch: ImageArch;
  /** Files of the single layer. */
  layer: readonly TarEntry[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A docker-archive ("docker save" format, docker.v1.2): manifest.json naming a config JSON and one
 * uncompressed layer tar. This is what `ctr images import` reads, and skopeo as docker-archive:.
 */
export function dockerArchive(spec: ImageSpecInput): Buffer {
  const layer = tarArchive(spec.layer);
  const diffId = sha256(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: spec.arch,
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Entrypoint: spec.entrypoint ?? null,
      Cmd: spec.cmd ?? null,
      Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      WorkingDir: spec.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'edgeos' }],
  }));
  const configName = `${sha256(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [spec.repoTag], Layers: [`${diffId}/layer.tar`] }]));
  return tarArchive([
    { type: 'dir', name: diffId },
    { type: 'file', name: `${diffId}/layer.tar`, data: layer },
    { type: 'file', name: configName, data: config },
    { type: 'file', name: 'manifest.json', data: manifest },
  ]);
}

export function hostImageArch(arch: string = process.arch): ImageArch {
  if (arch === 'x64') return 'amd64';
  if (arch === 'arm64') return 'arm64';
  throw new Error(`edgeos images: unsupported CPU architecture ${arch}`);
}
