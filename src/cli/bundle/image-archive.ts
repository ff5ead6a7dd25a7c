// Checks that an --image file is an image archive `ctr images import` reads (what the agent does
// with <data-dir>/agent/images at start), before it goes into a bundle: a docker-archive
// (manifest.json) or an OCI image layout (oci-layout + index.json), plain, gzip or zstd.
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { extract } from 'tar-stream';
import { InvalidInputError, errorMessage } from '../../common/errors.ts';
import { detectCompression } from '../../runtime/images/ctr-import.ts';

export interface ImageArchiveInfo {
  readonly format: 'docker-archive' | 'oci';
  /** Image names the archive carries (RepoTags / org.opencontainers.image.ref.name). */
  readonly names: readonly string[];
}

/** The air-gap watcher imports only these names (src/runtime/images/airgap-watcher.ts). */
export const IMAGE_FILE_RE = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.zstd)$/;

const METADATA = new Set(['manifest.json', 'oci-layout', 'index.json']);
const MAX_METADATA = 4 << 20;

async function readMetadata(file: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (header.type === 'file' && METADATA.has(name) && header.size <= MAX_METADATA) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        found.set(name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  const compression = await detectCompression(file);
  const stages: NodeJS.ReadWriteStream[] = compression === 'gzip' ? [createGunzip()] : compression === 'zstd' ? [createZstdDecompress()] : [];
  await pipeline([createReadStream(file), ...stages, tar as unknown as NodeJS.WritableStream] as [Readable, ...NodeJS.WritableStream[]]);
  return found;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${errorMessage(err)}`, { cause: err });
  }
}

export async function inspectImageArchive(file: string): Promise<ImageArchiveInfo> {
  const bad = (why: string, cause?: unknown) => new InvalidInputError(`--image ${file}: ${why}`, cause === undefined ? undefined : { cause });
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw bad(`cannot read it: ${errorMessage(err)}`, err);
  }
  if (!st.isFile()) throw bad('is not a file');
  if (!IMAGE_FILE_RE.test(basename(file))) throw bad('the name must end in .tar, .tar.gz, .tgz or .tar.zst (edgeos imports only those from its images directory)');
  let meta: Map<string, string>;
  try {
    meta = await readMetadata(file);
  } catch (err) {
    throw bad(`is not a tar archive (${errorMessage(err)}); give a docker-archive (docker save, skopeo copy docker-archive:) or an OCI image layout tar`, err);
  }
  try {
    const manifest = meta.get('manifest.json');
    if (manifest !== undefined) {
      const list = parseJson(manifest, 'manifest.json');
      if (!Array.isArray(list) || list.length === 0 || !list.every((m) => typeof (m as { Config?: unknown }).Config === 'string')) {
        throw new Error('manifest.json is not a docker-archive manifest (a list of {Config, RepoTags, Layers})');
      }
      return { format: 'docker-archive', names: list.flatMap((m) => ((m as { RepoTags?: unknown }).RepoTags as string[] | null | undefined) ?? []) };
    }
    const index = meta.get('index.json');
    if (meta.has('oci-layout') && index !== undefined) {
      const idx = parseJson(index, 'index.json') as { manifests?: { annotations?: Record<string, string> }[] };
      if (!Array.isArray(idx.manifests)) throw new Error('index.json has no manifests list');
      return { format: 'oci', names: idx.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((n): n is string => !!n) };
    }
  } catch (err) {
    throw bad(errorMessage(err), err);
  }
  throw bad('is a tar archive but no container image: it has neither manifest.json (docker-archive) nor oci-layout and index.json (OCI layout)');
}
