// Node pools from join flags: three `edgeos join <token> --pool …` processes (agents without a
// container runtime) against the real server; kubectl shows the pools with their members, and the
// members carry their pool's labels. A bad --pool is refused before anything is joined.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../helpers/kubectl.ts';
import { REPO, serverProcess, waitFor } from '../link/harness.ts';
import type { ServerProcess } from '../link/harness.ts';

let server: ServerProcess;
const agents: { child: ChildProcess; exited: Promise<void> }[] = [];

function joinProcess(args: string[]): { child: ChildProcess; exited: Promise<void>; output(): string } {
  const child = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), 'join', server.token(), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEOS_LOG_LEVEL: 'warn' } });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited, output: () => out };
}

beforeAll(async () => {
  server = await serverProcess();
}, 60_000);

afterAll(async () => {
  for (const a of agents) {
    if (a.child.exitCode === null && a.child.pid !== undefined) process.kill(a.child.pid, 'SIGTERM');
    await a.exited;
  }
  await server?.dispose();
});

describe('edgeos join --pool', () => {
  it('makes each node a member of its pool: kubectl get nodepools lists and counts them', async () => {
    const applied = await kubectl(server, ['apply', '-f', '-'], { stdin: `
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: shop-a}
spec: {labels: {site: shop-a}}
---
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: shop-b}
spec: {type: Cloud, labels: {site: shop-b}}
` });
    expect(applied.stderr).toBe('');
    for (const [name, pool] of [['a1', 'shop-a'], ['a2', 'shop-a'], ['b1', 'shop-b']] as const) {
      const a = joinProcess(['--data-dir', join(server.dir, name), '--node-name', name, '--pool', pool, '--disable-runtime']);
      agents.push(a);
    }
    let last = '';
    const wide = await waitFor('both pools to list their joined members', async () => {
      const r = await kubectl(server, ['get', 'nodepools', '-o', 'wide']);
      last = r.stdout + r.stderr + (await kubectl(server, ['get', 'nodes'])).stdout;
      return /shop-a\s+Edge\s+\d+\s+\d+\s+\S+\s+a1,a2/.test(r.stdout) && /shop-b\s+Cloud\s+\d+\s+\d+\s+\S+\s+b1/.test(r.stdout) ? r.stdout : undefined;
    }, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${last}`);
    });
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+READYNODES\s+NOTREADYNODES\s+AGE\s+NODES$/);
    // Agents without a runtime post no node status (their Nodes stay Unknown): every member counts as ready or not.
    const counts = JSON.parse((await kubectl(server, ['get', 'nodepool', 'shop-a', '-o', 'json'])).stdout) as { status: { readyNodeNum: number; unreadyNodeNum: number } };
    expect(counts.status.readyNodeNum + counts.status.unreadyNodeNum).toBe(2);
    const labels = await kubectl(server, ['get', 'nodes', '-L', 'apps.edgeos.io/pool,site', '--no-headers']);
    expect(labels.stdout).toMatch(/^a1\s+\S+\s+.*\sshop-a\s+shop-a$/m);
    expect(labels.stdout).toMatch(/^b1\s+\S+\s+.*\sshop-b\s+shop-b$/m);
    const byPool = await kubectl(server, ['get', 'nodes', '-l', 'apps.edgeos.io/pool=shop-a', '-o', 'name']);
    expect(byPool.stdout.trim().split('\n').sort()).toEqual(['node/a1', 'node/a2']);
  }, 120_000);

  it('refuses a --pool that is no pool name, naming the flag, and joins nothing', async () => {
    const a = joinProcess(['--data-dir', join(server.dir, 'bad'), '--node-name', 'bad', '--pool', 'Shop_A', '--disable-runtime']);
    await a.exited;
    expect(a.child.exitCode).not.toBe(0);
    expect(a.output()).toContain('--pool: "Shop_A" is not a node pool name');
    expect(existsSync(join(server.dir, 'bad', 'agent'))).toBe(false);
    expect((await kubectl(server, ['get', 'node', 'bad'])).code).not.toBe(0);
  });
});
