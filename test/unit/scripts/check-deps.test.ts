import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTree, findCycles } from '../../../scripts/check-deps.ts';

describe('check-deps', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function tree(files: Record<string, string>): string {
    dir = mkdtempSync(join(tmpdir(), 'edgeos-deps-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  }

  it('flags store importing server, and agent importing server dynamically', () => {
    const src = tree({
      'store/a.ts': "import { x } from '../server/api/x.ts';\n",
      'agent/b.ts': "const m = await import('../server/y.ts');\n",
      'server/y.ts': "export type { T } from '../store/types.ts';\n",
    });
    const v = checkTree(src);
    expect(v.map((x) => `${x.from}->${x.to}`).sort()).toEqual(['agent->server', 'store->server']);
    expect(v.find((x) => x.from === 'store')?.line).toBe(1);
  });

  it('accepts the allowed directions', () => {
    const src = tree({
      'cli/main.ts': "import '../server/index.ts';\nimport '../agent/index.ts';\n",
      'server/index.ts': "import '../store/types.ts';\nimport '../common/errors.ts';\n",
      'agent/index.ts': "import '../runtime/types.ts';\n",
      'common/errors.ts': "import 'node:fs';\n",
    });
    expect(checkTree(src)).toEqual([]);
  });

  it('keeps the server layers apart: storage below api, link and join; api and link apart', () => {
    const src = tree({
      'server/storage/read.ts': "import { x } from '../api/status.ts';\n",
      'server/api/handler.ts': "import '../storage/read.ts';\nimport '../link/node-stats.ts';\n",
      'server/link/feed.ts': "import '../storage/read.ts';\n",
      'server/kinds/pod.ts': "import '../api/status.ts';\n",
    });
    expect(checkTree(src).map((v) => `${v.from}->${v.to}`).sort()).toEqual(['server/api->server/link', 'server/storage->server/api']);
  });

  it('names an import cycle between files, type-only imports included', () => {
    const src = tree({
      'server/a.ts': "import type { B } from './b.ts';\nexport type A = B;\n",
      'server/b.ts': "import { c } from './sub/c.ts';\nexport type B = number;\n",
      'server/sub/c.ts': "import type { A } from '../a.ts';\nexport const c = 1;\n",
      'server/d.ts': "import { c } from './sub/c.ts';\n",
    });
    const cycles = findCycles(src);
    expect(cycles).toHaveLength(1);
    const names = cycles[0]!.map((f) => f.slice(f.indexOf('server/')));
    expect(names).toEqual(['server/a.ts', 'server/b.ts', 'server/sub/c.ts', 'server/a.ts']);
  });

  it('finds a file that imports itself, and no cycle in a tree without one', () => {
    expect(findCycles(tree({ 'store/x.ts': "import './x.ts';\n" }))).toHaveLength(1);
    rmSync(dir, { recursive: true, force: true });
    expect(findCycles(tree({ 'store/x.ts': "import './y.ts';\n", 'store/y.ts': "import 'node:fs';\n" }))).toEqual([]);
  });
});
