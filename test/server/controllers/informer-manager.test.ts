// The informer's reflector loop against a scripted API (resume after a closed watch, relist and
// reconcile after 410 Gone), the manager's supervision (a crashing controller is restarted), and
// the loopback credential.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { authenticateLoopback, createLoopbackToken, LOOPBACK_USER } from '../../../src/server/auth/loopback.ts';
import { createInformer } from '../../../src/server/controllers/informers/informer.ts';
import { controllerFromRun } from '../../../src/server/controllers/lifecycle.ts';
import { createControllerManager } from '../../../src/server/controllers/manager.ts';
import { resources } from '../../../src/server/controllers/types.ts';
import type { KubeClient, KubeObject, ObjectList, WatchEvent, WatchOptions } from '../../../src/server/controllers/types.ts';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', uid: name, resourceVersion: rv } });

/** A KubeClient that answers list/watch from a script; everything else is unexpected here. */
function scriptedClient(lists: ObjectList[], watches: Array<Array<WatchEvent> | 'block'>, calls: string[]): KubeClient {
  const unexpected = () => Promise.reject(new Error('not part of this script'));
  return {
    list: async () => {
      const l = lists.shift();
      if (!l) throw new Error('no more lists');
      calls.push(`list→${l.resourceVersion}`);
      return l as ObjectList<never>;
    },
    watch: (_ref, opts: WatchOptions) => {
      calls.push(`watch@${opts.resourceVersion ?? ''}`);
      const script = watches.shift() ?? 'block';
      return (async function* () {
        if (script === 'block') {
          await new Promise<void>((r) => opts.signal.addEventListener('abort', () => r(), { once: true }));
          return;
        }
        for (const ev of script) yield ev as WatchEvent<never>;
      })();
    },
    get: unexpected, create: unexpected, update: unexpected, updateStatus: unexpected, patch: unexpected, delete: unexpected,
    createSubresource: unexpected, replaceSubresource: unexpected, discover: unexpected,
  };
}

describe('informer', () => {
  it('resumes a closed watch from the last resourceVersion and reconciles a relist after 410', async () => {
    const calls: string[] = [];
    const client = scriptedClient(
      [{ items: [obj('a', '1'), obj('b', '1')], resourceVersion: '10' }, { items: [obj('a', '11'), obj('c', '12')], resourceVersion: '12' }],
      [[{ type: 'MODIFIED', object: obj('a', '11') }], [{ type: 'ERROR', object: { code: 410, metadata: {} } as unknown as KubeObject }], 'block'],
      calls,
    );
    const inf = createInformer(client, resources.pods, silentLogger());
    const events: string[] = [];
    inf.addEventHandler({ add: (o) => events.push(`add ${o.metadata.name}`), update: (_, o) => events.push(`update ${o.metadata.name}@${o.metadata.resourceVersion}`), delete: (o) => events.push(`delete ${o.metadata.name}`) });
    const abort = new AbortController();
    const run = inf.run(abort.signal);
    const deadline = Date.now() + 10_000;
    while (calls.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await run;
    expect(calls).toEqual(['list→10', 'watch@10', 'watch@11', 'list→12', 'watch@12']);
    expect(events).toEqual(['add a', 'add b', 'update a@11', 'add c', 'delete b']);
    expect(inf.hasSynced()).toBe(true);
    expect(inf.list('ns').map((o) => o.metadata.name).sort()).toEqual(['a', 'c']);
    expect(inf.list('ns', { matchLabels: { x: 'y' } })).toEqual([]);
  });
});

describe('controller manager', () => {
  it('logs a crashed controller and restarts it', async () => {
    let starts = 0;
    const manager = createControllerManager({
      url: 'https://127.0.0.1:1',
      caPem: '',
      token: 't',
      log: silentLogger(),
      options: { nodeMonitorGracePeriodMs: 40_000, nodeMonitorPeriodMs: 5000, workers: 1 },
      descriptors: [{
        name: 'crashy',
        create: () => controllerFromRun('crashy', async (signal, ready) => {
          starts++;
          ready();
          if (starts === 1) throw new Error('boom');
          await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        }),
      }],
    });
    const abort = new AbortController();
    await manager.start(abort.signal);
    await manager.ready;
    const deadline = Date.now() + 15_000;
    while (starts < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(starts).toBe(2);
    abort.abort();
    await manager.stop();
  });
});

describe('loopback credential', () => {
  it('authenticates exactly its token as system:edgeos-controller in system:masters', () => {
    const token = createLoopbackToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
    expect(authenticateLoopback(req(`Bearer ${token}`), token)).toEqual({ name: LOOPBACK_USER, groups: ['system:masters'] });
    expect(authenticateLoopback(req(`Bearer ${token.slice(0, -1)}x`), token)).toBeUndefined();
    expect(authenticateLoopback(req(), token)).toBeUndefined();
    expect(createLoopbackToken()).not.toBe(token);
  });
});
