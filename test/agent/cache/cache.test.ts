// The agent cache on SQLite: CRUD per kind, change notifications after commit, the resume
// revision, and durability across a SIGKILLed process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import type { CacheChange } from '../../../src/agent/types.ts';
import { silentLogger } from '../../../src/common/log.ts';

const dir = mkdtempSync('/tmp/eos-agent-cache-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pod = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { nodeName: 'n1', containers: [] }, ...extra,
});

describe('agent cache', () => {
  it('stores, lists, gets and deletes objects per kind', async () => {
    const cache = await openAgentCache({ file: join(dir, 'crud.db'), log: silentLogger() });
    try {
      await cache.put('Pod', pod('a'));
      await cache.put('Pod', pod('b'));
      await cache.put('ConfigMap', { metadata: { name: 'a', namespace: 'default' }, data: { k: 'v' } });
      await cache.put('Node', { metadata: { name: 'n1' } });
      expect((await cache.list('Pod')).map((p) => (p.metadata as { name: string }).name)).toEqual(['a', 'b']);
      expect(await cache.get('ConfigMap', 'default', 'a')).toEqual({ metadata: { name: 'a', namespace: 'default' }, data: { k: 'v' } });
      expect(await cache.get('Node', '', 'n1')).toEqual({ metadata: { name: 'n1' } });
      expect(await cache.get('Secret', 'default', 'a')).toBeUndefined();
      await cache.delete('Pod', 'default', 'a');
      await cache.delete('Pod', 'default', 'missing');
      expect((await cache.list('Pod')).length).toBe(1);
      await expect(cache.put('Pod', { metadata: {} })).rejects.toThrow(/without metadata.name/);
    } finally {
      await cache.close();
    }
  });

  it('notifies once per real change and keeps resume versions', async () => {
    const cache = await openAgentCache({ file: join(dir, 'notify.db'), log: silentLogger() });
    try {
      const seen: CacheChange[] = [];
      const off = cache.subscribe((change) => seen.push(change));
      await cache.put('Pod', pod('a'));
      await cache.put('Pod', pod('a'));
      await cache.put('Pod', pod('a', { status: { phase: 'Running' } }));
      await cache.delete('Pod', 'default', 'a');
      await cache.delete('Pod', 'default', 'a');
      expect(seen.map((c) => [c.kind, c.namespace, c.name, c.object ? 'put' : 'delete'])).toEqual([
        ['Pod', 'default', 'a', 'put'], ['Pod', 'default', 'a', 'put'], ['Pod', 'default', 'a', 'delete'],
      ]);
      expect(seen[1]?.object?.status).toEqual({ phase: 'Running' });
      off();
      await cache.put('Pod', pod('b'));
      expect(seen.length).toBe(3);

      expect(await cache.resumeRevision()).toBeUndefined();
      await cache.apply({ revision: '42', writes: [] });
      await cache.apply({ revision: '43', writes: [] });
      expect(await cache.resumeRevision()).toBe('43');
    } finally {
      await cache.close();
    }
  });

  it('serializes concurrent writes to one key', async () => {
    const cache = await openAgentCache({ file: join(dir, 'concurrent.db'), log: silentLogger() });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => cache.put('Pod', pod('x', { status: { n: i } }))));
      expect((await cache.get('Pod', 'default', 'x'))?.status).toEqual({ n: 19 });
    } finally {
      await cache.close();
    }
  });

  it('has committed a change before announcing it: a SIGKILL in the listener loses nothing', async () => {
    const file = join(dir, 'crash.db');
    const script = join(dir, 'writer.ts');
    const modulePath = join(process.cwd(), 'src/agent/cache/index.ts');
    const logPath = join(process.cwd(), 'src/common/log.ts');
    writeFileSync(script, `
      import { openAgentCache } from ${JSON.stringify(modulePath)};
      import { silentLogger } from ${JSON.stringify(logPath)};
      const cache = await openAgentCache({ file: ${JSON.stringify(file)}, log: silentLogger() });
      await cache.apply({ revision: '50', writes: [] });
      // The listener runs after the commit: dying inside it must not lose the change it announces.
      cache.subscribe((c) => { if (c.name === 'p7') process.kill(process.pid, 'SIGKILL'); });
      for (let i = 0; i < 50; i++) await cache.put('Pod', { metadata: { name: 'p' + i, namespace: 'default', uid: 'u' + i } });
      process.stdout.write('not killed\\n');
    `);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const [, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
    expect(signal).toBe('SIGKILL');
    expect(out).toBe('');
    const cache = await openAgentCache({ file, log: silentLogger() });
    try {
      expect((await cache.list('Pod')).map((p) => (p.metadata as { name: string }).name).sort()).toEqual(
        ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
      expect(await cache.resumeRevision()).toBe('50');
    } finally {
      await cache.close();
    }
  });
});
