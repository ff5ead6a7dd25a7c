// The error catalogue against the tree: every code follows the scheme, means something, is carried
// by a class that exists (or has a documented use), is produced somewhere, and is listed in
// docs/errors.md; and no code in the tree is missing from the catalogue.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorAreas, errorCodes } from '../../../src/common/error-codes.ts';
import type { ErrorCode } from '../../../src/common/error-codes.ts';
import { linkErrorCodes } from '../../../src/common/link/error-codes.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

function sources(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.push({ file: relative(ROOT, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(ROOT, dir));
  return out;
}

const tree = [...sources('src'), ...sources('scripts')];
const CATALOGUE = 'src/common/error-codes.ts';
const LINK_SET = 'src/common/link/error-codes.ts';
/** Source lines without comments. */
const code = tree.map(({ file, text }) => ({
  file,
  lines: text.split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).map((l) => l.replace(/\s\/\/ .*$/, '')),
}));

const entries = Object.entries(errorCodes) as [ErrorCode, (typeof errorCodes)[ErrorCode]][];

describe('error catalogue', () => {
  it.each(entries)('%s follows the scheme and says what it means', (c, info) => {
    expect(c).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
    expect(Object.keys(errorAreas)).toContain(c.split('_')[0]);
    expect(info.meaning.length).toBeGreaterThan(10);
    expect(info.meaning).toMatch(/[.)]$/);
    expect(['common', 'cli', 'scripts', 'store', 'runtime', 'server', 'agent', 'link']).toContain(info.subsystem);
  });

  it.each(entries)('%s is carried by a class that exists, or has a documented use', (_c, info) => {
    const cls = /^([A-Z][A-Za-z]+Error)\b/.exec(info.raisedAs)?.[1];
    if (cls === undefined) {
      expect(info.raisedAs).toMatch(/process warning/);
      return;
    }
    const declared = cls === 'EdgeosError' || tree.some(({ text }) => new RegExp(`\\bclass ${cls} extends\\b`).test(text));
    expect(declared, `class ${cls}`).toBe(true);
  });

  it.each(entries)('%s is produced somewhere in the tree', (c) => {
    const produced = code.some(({ file, lines }) =>
      file !== CATALOGUE && file !== LINK_SET &&
      // A quoted code, or a link code by name (LinkErrorCode.X), that is not only compared against.
      lines.some((l) => (l.includes(`'${c}'`) || l.includes(`LinkErrorCode.${c}`)) && !new RegExp(`[!=]==\\s*('${c}'|LinkErrorCode\\.${c}\\b)`).test(l) && !/^\s*(export\s+)?type\s/.test(l)),
    );
    expect(produced).toBe(true);
  });

  it('takes the link codes from the link, and lists no meaning twice', () => {
    for (const [c, meaning] of Object.entries(linkErrorCodes)) expect(errorCodes[c as ErrorCode]).toMatchObject({ subsystem: 'link', meaning });
    const meanings = entries.map(([, i]) => i.meaning);
    expect(new Set(meanings).size).toBe(meanings.length);
  });

  it('knows every code the tree raises or sends', () => {
    const known = new Set<string>(Object.keys(errorCodes));
    const seen = new Map<string, string>();
    const patterns = [
      /new [A-Za-z]*Error\(\s*'([A-Z][A-Z0-9_]+)'/g, // new XError('CODE', …)
      /super\(\s*'([A-Z][A-Z0-9_]+)'/g, // super('CODE', …)
      /\bcode: '([A-Z][A-Z0-9_]+)'/g, // { code: 'CODE', message } in link acks
    ];
    for (const { file, lines } of code) {
      for (const l of lines) for (const re of patterns) for (const m of l.matchAll(re)) seen.set(m[1]!, file);
    }
    const unknown = [...seen].filter(([c]) => !known.has(c)).map(([c, f]) => `${c} (${f})`);
    expect(unknown).toEqual([]);
    expect(seen.size).toBeGreaterThan(50);
  });

  it('is listed in docs/errors.md, code by code', () => {
    const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    // Rows of the "All codes" tables: code, subsystem, class, meaning.
    const listed = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (?:common|cli|scripts|store|runtime|server|agent|link) \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(entries.map(([c]) => c).sort());
  });
});
