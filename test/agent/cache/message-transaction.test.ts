// One link message is one cache transaction: its objects and its resume revision commit together.
// A process SIGKILLed while it applies messages leaves the cache at the end of one whole message
// (every object of that generation, its revision), never between two; an update that cannot be
// stored halfway through leaves nothing of itself behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import type { AgentCache, CacheWrite } from '../../../src/agent/types.ts';
import { silentLogger } from '../../../src/common/log.ts';

const dir = mkdtempSync('/tmp/eos-agent-cache-txn-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PODS = 200;

/** Message `gen`: every pod stamped with gen; pod "extra" exists only in even generations; every third message is a snapshot. */
const writerSource = (file: string) => `
  import { openAgentCache } from ${JSON.stringify(join(process.cwd(), 'src/agent/cache/index.ts'))};
  import { silentLogger } from ${JSON.stringify(join(process.cwd(), 'src/common/log.ts'))};
  const cache = await openAgentCache({ file: ${JSON.stringify(file)}, log: silentLogger() });
  const pad = 'x'.repeat(1500);
  for (let gen = 1; ; gen++) {
    const writes = [];
    for (let i = 0; i < ${PODS}; i++) {
      const name = 'p' + i;
      writes.push({ kind: 'Pod', namespace: 'default', name, object: { metadata: { name, namespace: 'default', uid: 'u' + i, annotations: { gen: String(gen) } }, spec: { pad } } });
    }
    const extra = { kind: 'Pod', namespace: 'default', name: 'extra' };
    if (gen % 2 === 0) writes.push({ ...extra, object: { metadata: { name: 'extra', namespace: 'default', annotations: { gen: String(gen) } } } });
    else if (gen % 3 !== 0) writes.push(extra);
    process.stdout.write('applying ' + gen + '\\n');
    await cache.apply({ revision: String(gen), writes, replace: gen % 3 === 0 });
  }
`;

/** Runs the writer until it announced message `killAt`, then SIGKILLs it `delayMs` later. */
async function killWhileApplying(file: string, killAt: number, delayMs: number): Promise<void> {
  const script = join(dir, `writer-${killAt}-${delayMs}.ts`);
  writeFileSync(script, writerSource(file));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<string | null>((r) => child.once('exit', (_code, sig) => r(sig)));
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes(`applying ${killAt}\n`) && child.exitCode === null) {
      setTimeout(() => child.kill('SIGKILL'), delayMs);
      out = '';
    }
  });
  expect(await exited).toBe('SIGKILL');
}

async function generations(cache: AgentCache): Promise<{ revision: string | undefined; gens: Set<string>; pods: number; extra: boolean }> {
  const pods = await cache.list('Pod');
  const gens = new Set(pods.map((p) => ((p.metadata as { annotations?: Record<string, string> }).annotations ?? {}).gen ?? 'none'));
  return { revision: await cache.resumeRevision(), gens, pods: pods.length, extra: pods.some((p) => (p.metadata as { name: string }).name === 'extra') };
}

describe('one link message, one cache transaction', () => {
  it('is whole after a SIGKILL during apply: all objects and the revision of one message', async () => {
    const file = join(dir, 'killed.db');
    // Later rounds resume the same file, so each kill lands on a cache that already holds a message.
    for (const [killAt, delayMs] of [[3, 0], [6, 2], [9, 5], [12, 1]] as const) {
      await killWhileApplying(file, killAt, delayMs);
      const cache = await openAgentCache({ file, log: silentLogger() });
      try {
        const g = await generations(cache);
        // The writer restarts at generation 1 each round; the kill came during message killAt or just after it.
        expect([String(killAt - 1), String(killAt)]).toContain(g.revision);
        expect(g.gens).toEqual(new Set([g.revision]));
        const even = Number(g.revision) % 2 === 0;
        expect(g.extra).toBe(even);
        expect(g.pods).toBe(PODS + (even ? 1 : 0));
      } finally {
        await cache.close();
      }
    }
  }, 120_000);

  it('leaves nothing of an update that cannot be stored halfway through', async () => {
    const cache = await openAgentCache({ file: join(dir, 'halfway.db'), log: silentLogger() });
    try {
      const pod = (name: string, extra: Record<string, unknown> = {}): CacheWrite => ({ kind: 'Pod', namespace: 'default', name, object: { metadata: { name, namespace: 'default' }, ...extra } });
      await cache.apply({ revision: '10', writes: [pod('a'), pod('b')] });
      const seen: string[] = [];
      cache.subscribe((c) => seen.push(c.name));
      const tooBig = pod('c', { data: 'x'.repeat(2 * 1024 * 1024) });
      await expect(cache.apply({ revision: '11', writes: [{ kind: 'Pod', namespace: 'default', name: 'a' }, pod('b', { spec: { n: 1 } }), tooBig, pod('d')] })).rejects.toThrow();
      expect(await cache.resumeRevision()).toBe('10');
      expect((await cache.list('Pod')).map((p) => p.metadata)).toEqual([{ name: 'a', namespace: 'default' }, { name: 'b', namespace: 'default' }]);
      expect(seen).toEqual([]);
      // The cache goes on: the next message applies.
      await cache.apply({ revision: '12', writes: [pod('d')] });
      expect(await cache.resumeRevision()).toBe('12');
      expect(seen).toEqual(['d']);
    } finally {
      await cache.close();
    }
  });
});
