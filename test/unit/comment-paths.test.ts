// Comments that name a TypeScript file name one that exists: after a move or a removal a stale
// pointer sends the next reader looking for nothing. A path resolves against the commenting file's
// folder, the repository root or src/; a bare or partial path may match any file ending with it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(relative(ROOT, p));
  }
  return out;
}

describe('file paths in comments', () => {
  it('point at files that exist', () => {
    const all = files(ROOT);
    const stale: string[] = [];
    for (const f of all.filter((p) => /^(src|test|scripts|bench)\/.*\.ts$/.test(p))) {
      readFileSync(join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
        const at = line.search(/\/\/|\/\*|^\s*\*/);
        if (at < 0) return;
        for (const m of line.slice(at).matchAll(/(?<![<\w])([A-Za-z0-9_.\-/]+\.ts)\b/g)) {
          const p = m[1]!.replace(/^\.\//, '');
          if (p.startsWith('/') || p === '.test.ts') continue; // a pattern ("bench/<name>/main.ts", "*.test.ts"), not a file
          if ([resolve(ROOT, dirname(f), p), resolve(ROOT, p), resolve(ROOT, 'src', p)].some((c) => existsSync(c))) continue;
          if (all.some((a) => a.endsWith(`/${p}`))) continue;
          stale.push(`${f}:${i + 1}: ${p}`);
        }
      });
    }
    expect(stale).toEqual([]);
  });
});
