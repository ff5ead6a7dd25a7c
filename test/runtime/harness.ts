// One private containerd per test file: its own data dir, socket, bridge and pod CIDR, so the two
// vitest workers never collide. Everything it starts is torn down by teardown().
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../src/common/log.ts';
import { createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';
import type { EdgeContainerRuntime, RuntimeConfig, RuntimeOptions } from '../../src/runtime/index.ts';
import { busyboxArchive } from '../fixtures/images/busybox-image.ts';
import { deleteLink, killPid, removeAllPods, removeDataDir } from './cleanup.ts';

export interface TestRuntime {
  rt: EdgeContainerRuntime;
  config: RuntimeConfig;
  dir: string;
  /** Structured log lines the runtime wrote (tests assert on behaviour through them). */
  logs: Record<string, unknown>[];
  teardown(): Promise<void>;
}

export const busyboxImage = 'edgeos.test/busybox:1';

function capturingLogger(lines: Record<string, unknown>[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return pino({ level: 'debug' }, sink);
}

export async function startTestRuntime(name: string, opts: Partial<RuntimeOptions> & { registriesYaml?: string }): Promise<TestRuntime> {
  const dir = mkdtempSync(`/tmp/eos-${name}-`);
  mkdirSync(`${dir}/agent/images`, { recursive: true });
  // The busybox test image arrives the air-gapped way, like on a device without a registry.
  writeFileSync(`${dir}/agent/images/busybox.tar`, busyboxArchive(busyboxImage));
  const registries = `${dir}/registries.yaml`;
  if (opts.registriesYaml) writeFileSync(registries, opts.registriesYaml);
  const config = resolveRuntimeConfig({ dataDir: dir, privateRegistry: registries, ...opts });
  const logs: Record<string, unknown>[] = [];
  const rt = createContainerRuntime(config, { log: capturingLogger(logs) });
  const ac = new AbortController();
  const teardown = async (): Promise<void> => {
    const pid = rt.containerdPid();
    await removeAllPods(config.endpoint);
    await rt.stop().catch(() => undefined);
    ac.abort();
    killPid(pid);
    deleteLink(config.cni.bridge);
    removeDataDir(dir);
  };
  try {
    await rt.start(ac.signal);
  } catch (err) {
    await teardown();
    throw err;
  }
  return { rt, config, dir, logs, teardown };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
