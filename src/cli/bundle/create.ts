// `edgeos bundle create`: everything an air-gapped install needs in one .tar.gz (docs/install.md,
// "Air-gapped install"). Layout, under one top directory:
//   install.sh, edgeos-linux-<arch>, edgeos-linux-<arch>.sha256
//   runtime/bin/{containerd,containerd-shim-runc-v2,ctr,runc}   runtime/cni/{bridge,host-local,portmap,loopback}
//   runtime/tools/bin/{nft,conntrack} and runtime/tools/lib/<the shared libraries they need>
//   images/edgeos-pause.tar and each --image file               (install.sh copies them to <data-dir>/agent/images)
//   manifests/ with each --manifest file                          (install.sh copies them to <data-dir>/server/manifests)
//   bundle.json (versions, sha256 of every file), SHA256SUMS (the same hashes, for `sha256sum -c`)
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { EdgeosError, InvalidInputError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { runningAsSea, seaAsset, INSTALLER_ASSET } from '../../common/sea.ts';
import { builtinPauseImage } from '../../runtime/config.ts';
import { pauseImageArchive } from '../../runtime/images/pause-image.ts';
import { buildInfo } from '../build-info.ts';
import { writeBundleArchive, entrySize } from './archive-writer.ts';
import type { ArchiveEntry, WrittenFile } from './archive-writer.ts';
import { findShippedBinary, repoFile } from './binary.ts';
import { inspectImageArchive } from './image-archive.ts';
import type { ImageArchiveInfo } from './image-archive.ts';
import { readManifest } from '../../server/controllers/deploy/manifest-files.ts';
import { hostBundleArch } from './options.ts';
import type { BundleOptions } from './options.ts';
import { createProgress } from './progress.ts';
import { collectRuntime } from './runtime-packages.ts';

export const BUNDLE_FORMAT = 1;
const PAUSE_FILE = 'images/edgeos-pause.tar';

/** install.sh: embedded in the single executable, read from the repository in a source run. */
function installScript(): Buffer {
  if (runningAsSea()) return seaAsset(INSTALLER_ASSET)!;
  const file = repoFile('installer/install.sh');
  if (!file) throw new EdgeosError('BUNDLE_INSTALLER_MISSING', 'installer/install.sh not found beside this source checkout');
  return readFileSync(file);
}

export interface BundleResult {
  readonly output: string;
  readonly size: number;
  readonly files: readonly WrittenFile[];
}

export async function createBundle(opts: BundleOptions, log: Logger, tty: NodeJS.WriteStream | undefined): Promise<BundleResult> {
  // Everything that can be wrong is checked before the slow write, and before any file exists.
  if (existsSync(opts.output) && statSync(opts.output).isDirectory()) throw new InvalidInputError(`--output: ${opts.output} is a directory`);
  const hostArch = hostBundleArch();
  const binary = await findShippedBinary(opts.arch, opts.binary, hostArch);
  log.info({ file: binary.file, sha256: binary.sha256, version: binary.versionLine }, 'edgeos executable');

  const images: { file: string; path: string; info: ImageArchiveInfo }[] = [];
  for (const file of opts.images) {
    const info = await inspectImageArchive(file);
    const path = `images/${basename(file)}`;
    if (path === PAUSE_FILE || images.some((i) => i.path === path)) throw new InvalidInputError(`--image ${file}: another image file is already called ${basename(file)}; rename one`);
    images.push({ file, path, info });
    log.info({ file, format: info.format, names: info.names }, 'image archive');
  }

  const manifests: { file: string; path: string; objects: number }[] = [];
  for (const file of opts.manifests) {
    const path = `manifests/${basename(file)}`;
    if (!/\.(ya?ml|json)$/i.test(file)) throw new InvalidInputError(`--manifest ${file}: the server applies .yaml, .yml and .json files only`);
    if (manifests.some((m) => m.path === path)) throw new InvalidInputError(`--manifest ${file}: another manifest is already called ${basename(file)}; rename one`);
    // A file the server would refuse is refused now, on the machine that can still fix it.
    const read = await readManifest(file).catch((err: unknown) => {
      throw new InvalidInputError(`--manifest ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    if ('error' in read.parsed) throw new InvalidInputError(`--manifest ${file}: ${read.parsed.error}`);
    manifests.push({ file, path, objects: read.parsed.objects.length });
    log.info({ file, objects: read.parsed.objects.length }, 'manifest');
  }

  const runtime = collectRuntime(opts.arch, hostArch, opts.debs);
  try {
    for (const c of runtime.components) log.info({ package: c.package, version: c.version, from: c.from }, 'runtime package');
    const fileEntry = (path: string, file: string, mode: number): ArchiveEntry => ({ path, file, mode, size: statSync(file).size });
    const entries: ArchiveEntry[] = [
      { path: 'install.sh', mode: 0o755, data: installScript() },
      fileEntry(binary.name, binary.file, 0o755),
      { path: `${binary.name}.sha256`, mode: 0o644, data: Buffer.from(`${binary.sha256}  ${binary.name}\n`) },
      ...runtime.components.flatMap((c) => c.files.map((f) => fileEntry(f.path, f.source, f.path.startsWith('runtime/tools/lib/') ? 0o644 : 0o755))),
      { path: PAUSE_FILE, mode: 0o644, data: pauseImageArchive(opts.arch) },
      ...images.map((i) => fileEntry(i.path, i.file, 0o644)),
      ...manifests.map((m) => fileEntry(m.path, m.file, 0o644)),
    ];
    const manifest = (written: readonly WrittenFile[]) => ({
      format: BUNDLE_FORMAT,
      arch: opts.arch,
      created: new Date().toISOString(),
      createdBy: `edgeos v${buildInfo.version} (commit ${buildInfo.commit})`,
      edgeos: { file: binary.name, version: binary.versionLine ?? null, checksumVerified: binary.checksumVerified },
      runtime: runtime.components.map((c) => ({ package: c.package, version: c.version, from: c.from, files: c.files.map((f) => f.path) })),
      images: [
        { file: PAUSE_FILE, format: 'docker-archive', names: [builtinPauseImage] },
        ...images.map((i) => ({ file: i.path, format: i.info.format, names: i.info.names })),
      ],
      manifests: manifests.map((m) => ({ file: m.path, objects: m.objects })),
      files: Object.fromEntries(written.map((w) => [w.path, { size: w.size, sha256: w.sha256 }])),
    });
    const top = basename(opts.output).replace(/\.(tar\.gz|tgz)$/, '');
    const total = entries.reduce((n, e) => n + entrySize(e), 0);
    const files = await writeBundleArchive(opts.output, {
      top,
      dirs: ['runtime', 'runtime/bin', 'runtime/cni', 'runtime/tools', 'runtime/tools/bin', 'runtime/tools/lib', 'images', ...(manifests.length ? ['manifests'] : [])],
      entries,
      trailer: (written) => [
        { path: 'bundle.json', mode: 0o644, data: Buffer.from(JSON.stringify(manifest(written), null, 2) + '\n') },
        { path: 'SHA256SUMS', mode: 0o644, data: Buffer.from(written.map((w) => `${w.sha256}  ${w.path}\n`).join('')) },
      ],
    }, createProgress(total, log, tty));
    const size = statSync(opts.output).size;
    log.info({ output: opts.output, size, files: files.length }, 'bundle written');
    return { output: opts.output, size, files };
  } finally {
    runtime.cleanup();
  }
}
