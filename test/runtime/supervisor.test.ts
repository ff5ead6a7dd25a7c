// containerd that cannot start must fail start() fast with a ContainerdError that says why.
import { mkdtempSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.ts';
import { ContainerdError, createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { removeDataDir } from './cleanup.ts';

const dir = mkdtempSync('/tmp/eos-sup-');
afterAll(() => removeDataDir(dir));

async function startWith(containerdPath: string, sub: string): Promise<unknown> {
  const rt = createContainerRuntime(
    resolveRuntimeConfig({ dataDir: `${dir}/${sub}`, containerdPath, podCidr: '10.231.11.0/24', privateRegistry: `${dir}/none.yaml` }),
    { log: silentLogger() },
  );
  const err = await rt.start(new AbortController().signal).catch((e: unknown) => e);
  await rt.stop();
  return err;
}

describe('containerd supervisor', () => {
  it('reports a missing binary', async () => {
    const err = await startWith('/nonexistent/containerd', 'a');
    expect(err).toBeInstanceOf(ContainerdError);
    expect((err as Error).message).toMatch(/start containerd \(\/nonexistent\/containerd\): spawn .*ENOENT/);
  });

  it('reports a containerd that exits before it is ready, pointing at its log', async () => {
    const err = await startWith('/bin/false', 'b');
    expect(err).toBeInstanceOf(ContainerdError);
    expect((err as Error).message).toMatch(/containerd exited \(code 1\) before it was ready; see .*containerd\.log/);
  });
});
