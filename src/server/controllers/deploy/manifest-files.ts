// The manifests folder as the deploy controller sees it (K3s's pkg/deploy walk): every .yaml, .yml
// and .json file below it, sorted by path, except dotfiles and those a `<name>.skip` file beside
// them switches off; each file's documents parsed (multi-document YAML, JSON, `List` kinds
// expanded), with errors that name the document.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../types.ts';

const MANIFEST = /\.(ya?ml|json)$/i;

export interface ManifestFile {
  /** Absolute path. */
  readonly path: string;
  /** Relative to the folder, with "/" (the Addon name is derived from it). */
  readonly relative: string;
}

/** The manifests to apply, and those a .skip file switches off. */
export async function listManifests(dir: string): Promise<{ files: ManifestFile[]; skipped: Set<string> }> {
  const files: ManifestFile[] = [];
  const skipped = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else if ((e.isFile() || e.isSymbolicLink()) && MANIFEST.test(e.name)) {
        const rel = relative(dir, path).split('\\').join('/');
        if (names.has(`${e.name}.skip`)) skipped.add(path);
        else files.push({ path, relative: rel });
      }
    }
  };
  await walk(dir);
  return { files, skipped };
}

/**
 * The Addon a file is tracked by: its path below the folder without the extension, as a DNS-1123
 * name (`local-storage.yaml` → `local-storage`, `apps/web.yaml` → `apps-web`).
 */
export function addonName(relativePath: string): string {
  const name = relativePath.replace(MANIFEST, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 253).replace(/^-+|-+$/g, '');
  return name || 'manifest';
}

export const checksum = (content: Buffer): string => createHash('sha256').update(content).digest('hex');

/** One object of a manifest, with the 1-based number of the document it came from. */
export interface ManifestObject {
  readonly document: number;
  readonly object: KubeObject;
}

export type Parsed = { readonly objects: ManifestObject[] } | { readonly error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every object of a file. A syntax error anywhere refuses the whole file (it may be half-written). */
export async function readManifest(path: string): Promise<{ content: Buffer; parsed: Parsed }> {
  const content = await readFile(path);
  const docs = parseAllDocuments(content.toString('utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  const objects: ManifestObject[] = [];
  for (const [i, doc] of list.entries()) {
    const n = i + 1;
    const err = doc.errors[0];
    // The parser's message ends with a code frame after its first line; keep the sentence.
    if (err) return { content, parsed: { error: `document ${n}: ${(err.message.split('\n')[0] ?? '').replace(/:$/, '')}` } };
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // an empty document (comments, a trailing ---)
    if (!isObject(value)) return { content, parsed: { error: `document ${n}: not a Kubernetes object` } };
    const items = typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
    for (const item of items) {
      if (!isObject(item) || typeof item.apiVersion !== 'string' || typeof item.kind !== 'string' || !item.apiVersion || !item.kind) {
        return { content, parsed: { error: `document ${n}: apiVersion and kind are required` } };
      }
      const meta = isObject(item.metadata) ? item.metadata : {};
      if (typeof meta.name !== 'string' || meta.name === '') return { content, parsed: { error: `document ${n} (${item.kind}): metadata.name is required` } };
      objects.push({ document: n, object: { ...item, metadata: { ...meta } } as KubeObject });
    }
  }
  return { content, parsed: { objects } };
}
