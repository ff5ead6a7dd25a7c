// The edgeos executable a bundle ships: found beside the running one or in the repository's dist/,
// checked to be a linux/<arch> ELF file and to match the .sha256 that `npm run build` writes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ELF_MACHINE, elfMachine } from '../../common/elf.ts';
import { EdgeosError, InvalidInputError } from '../../common/errors.ts';
import { runningAsSea } from '../../common/sea.ts';
import type { BundleArch } from './options.ts';

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `dir` and its parents, nearest first (a source run sits in src/cli, the bundle in dist/). */
function upward(dir: string, levels: number): string[] {
  const out: string[] = [];
  for (let d = resolve(dir), i = 0; i <= levels; i++, d = dirname(d)) out.push(d);
  return out;
}

/** A file of the repository when edgeos runs from source (`node src/cli/main.ts`, `npm start`). */
export function repoFile(rel: string): string | undefined {
  if (runningAsSea() || !process.argv[1]) return undefined;
  return upward(dirname(process.argv[1]), 3).map((d) => join(d, rel)).find((p) => existsSync(p));
}

export interface ShippedBinary {
  readonly file: string;
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
  /** `--version` of the shipped file when it can run here (same architecture), else undefined. */
  readonly versionLine: string | undefined;
  /** False when no .sha256 was beside it (only possible with --binary). */
  readonly checksumVerified: boolean;
}

function defaultCandidates(arch: BundleArch): string[] {
  const name = `edgeos-linux-${arch}`;
  const here = join(dirname(process.execPath), name);
  const repo = repoFile(join('dist', name));
  return [...new Set([...(runningAsSea() ? [here] : []), ...(repo ? [repo] : [])])];
}

export async function findShippedBinary(arch: BundleArch, explicit: string | undefined, hostArch: BundleArch | undefined): Promise<ShippedBinary> {
  let file: string;
  if (explicit) {
    if (!existsSync(explicit) || !statSync(explicit).isFile()) throw new InvalidInputError(`--binary: ${explicit} is not a file`);
    file = explicit;
  } else {
    const tried = defaultCandidates(arch);
    const found = tried.find((p) => existsSync(p));
    if (!found) {
      throw new EdgeosError('BUNDLE_BINARY_MISSING', `no edgeos-linux-${arch} to ship (looked for ${tried.join(', ') || 'dist/ beside the running edgeos'}): `
        + `build it with \`npm run build -- --arch ${arch}\` or pass --binary FILE`);
    }
    file = found;
  }
  const machine = elfMachine(file);
  if (machine !== ELF_MACHINE[arch]) {
    throw new InvalidInputError(`${explicit ? '--binary: ' : ''}${file} is not a linux/${arch} executable (ELF machine ${machine === undefined ? 'none' : `0x${machine.toString(16)}`})`);
  }
  const sha256 = await sha256OfFile(file);
  const sumFile = `${file}.sha256`;
  let checksumVerified = false;
  if (existsSync(sumFile)) {
    const want = readFileSync(sumFile, 'utf8').trim().split(/\s+/)[0];
    if (want !== sha256) throw new EdgeosError('BUNDLE_CHECKSUM_MISMATCH', `${file} does not match ${sumFile} (expected ${want}, got ${sha256}): rebuild it or fix the checksum file`);
    checksumVerified = true;
  } else if (!explicit) {
    throw new EdgeosError('BUNDLE_CHECKSUM_MISMATCH', `${sumFile} is missing: rebuild with \`npm run build -- --arch ${arch}\``);
  }
  let versionLine: string | undefined;
  if (arch === hostArch) {
    const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.status !== 0) throw new EdgeosError('BUNDLE_BINARY_BROKEN', `${file} --version failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
    versionLine = r.stdout.trim();
  }
  return { file, name: `edgeos-linux-${arch}`, sha256, size: statSync(file).size, versionLine, checksumVerified };
}
