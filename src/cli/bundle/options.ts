// Flags of `edgeos bundle create` → a frozen options object; errors name the flag (STYLE.md #5).
import { resolve } from 'node:path';
import { InvalidInputError } from '../../common/errors.ts';

export type BundleArch = 'amd64' | 'arm64';

export interface RawBundleFlags {
  arch?: string;
  image?: string[];
  manifest?: string[];
  output?: string;
  binary?: string;
  debs?: string;
}

export interface BundleOptions {
  readonly arch: BundleArch;
  readonly images: readonly string[];
  /** Manifests install.sh puts into the server's manifests folder (docs/storage.md). */
  readonly manifests: readonly string[];
  /** Absolute path of the archive to write. */
  readonly output: string;
  /** --binary, or undefined to look for dist/edgeos-linux-<arch>. */
  readonly binary: string | undefined;
  /** --debs: a directory of containerd/runc/containernetworking-plugins .deb files. */
  readonly debs: string | undefined;
}

export function hostBundleArch(arch: string = process.arch): BundleArch | undefined {
  return arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined;
}

export function resolveBundleOptions(flags: RawBundleFlags, version: string, cwd: string = process.cwd()): BundleOptions {
  const arch = flags.arch ?? hostBundleArch();
  if (arch !== 'amd64' && arch !== 'arm64') throw new InvalidInputError(`--arch: "${arch ?? process.arch}" is not one of amd64, arm64`);
  const output = resolve(cwd, flags.output ?? `edgeos-bundle-${version}-linux-${arch}.tar.gz`);
  if (!/\.(tar\.gz|tgz)$/.test(output)) throw new InvalidInputError(`--output: "${flags.output}" must end in .tar.gz or .tgz (the bundle is a gzip-compressed tar)`);
  return Object.freeze({
    arch,
    images: Object.freeze((flags.image ?? []).map((f) => resolve(cwd, f))),
    manifests: Object.freeze((flags.manifest ?? []).map((f) => resolve(cwd, f))),
    output,
    binary: flags.binary === undefined ? undefined : resolve(cwd, flags.binary),
    debs: flags.debs === undefined ? undefined : resolve(cwd, flags.debs),
  });
}
