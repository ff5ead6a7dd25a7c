// An agent killed with SIGKILL leaves its containerd running; the next agent on the same data dir
// must stop that one (pid file) and run its own, instead of failing on containerd's locks.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.ts';
import { createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';
import type { EdgeContainerRuntime } from '../../src/runtime/index.ts';
import { deleteLink, killPid, removeAllPods, removeDataDir } from './cleanup.ts';
import { waitFor } from './harness.ts';

const dir = mkdtempSync('/tmp/eos-takeover-');
const podCidr = '10.231.10.0/24';
const bridge = 'eostest-to0';
const pids: number[] = [];
let next: EdgeContainerRuntime | undefined;

afterAll(async () => {
  const config = resolveRuntimeConfig({ dataDir: dir, podCidr, cniBridge: bridge, privateRegistry: `${dir}/registries.yaml` });
  await removeAllPods(config.endpoint);
  await next?.stop();
  for (const p of pids) killPid(p);
  deleteLink(bridge);
  removeDataDir(dir);
}, 60_000);

describe('containerd left behind by a killed agent', () => {
  it('is replaced by the next agent on the same data dir (which also applies a config template)', async () => {
    const agent = spawn(process.execPath, [`${import.meta.dirname}/agent-process.ts`, dir, podCidr, bridge], { stdio: ['ignore', 'pipe', 'inherit'] });
    pids.push(agent.pid!);
    let out = '';
    agent.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const oldPid = await waitFor('first agent ready', async () => Number(/containerd (\d+)/.exec(out)?.[1]) || undefined, 60_000);
    pids.push(oldPid);
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    expect(existsSync(`/proc/${oldPid}`)).toBe(true);

    // The next agent also brings a user template extending the generated config.
    writeFileSync(`${dir}/agent/containerd/config.toml.tmpl`, '{{ base }}\n# user template for {{root}}\n[debug]\n  level = "debug"\n');
    next = createContainerRuntime(resolveRuntimeConfig({ dataDir: dir, podCidr, cniBridge: bridge, privateRegistry: `${dir}/registries.yaml` }), { log: silentLogger() });
    await next.start(new AbortController().signal);
    const newPid = next.containerdPid()!;
    pids.push(newPid);
    expect(newPid).not.toBe(oldPid);
    // Gone, or a zombie waiting for init to reap it (its parent, the killed agent, is gone).
    const gone = (): boolean => {
      try {
        return readFileSync(`/proc/${oldPid}/stat`, 'utf8').split(' ')[2] === 'Z';
      } catch {
        return true;
      }
    };
    await waitFor('old containerd gone', async () => gone());
    expect((await next.version()).runtimeName).toBe('containerd');
    const toml = readFileSync(`${dir}/agent/containerd/config.toml`, 'utf8');
    expect(toml).toContain(`# user template for ${dir}/agent/containerd/root`);
    expect(toml).toContain('level = "debug"');
  });
});
