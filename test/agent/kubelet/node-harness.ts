// One edge node for a kubelet test file: a private containerd (own data dir, bridge, pod CIDR),
// the agent cache on SQLite, a recording StatusSink and the kubelet. The runtime and the kubelet
// can be restarted independently (agent restart, "reboot"). teardown() removes every pod through
// CRI, stops containerd by pid, deletes the bridge and the data dir.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import { createKubelet } from '../../../src/agent/kubelet/index.ts';
import type { Kubelet, KubeletOptions } from '../../../src/agent/kubelet/index.ts';
import type { AgentCache } from '../../../src/agent/types.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { createContainerRuntime, resolveRuntimeConfig } from '../../../src/runtime/index.ts';
import type { EdgeContainerRuntime, RuntimeConfig } from '../../../src/runtime/index.ts';
import { busyboxArchive } from '../../fixtures/images/busybox-image.ts';
import { deleteLink, killPid, removeAllPods, removeDataDir } from '../../runtime/cleanup.ts';
import { RecordingSink } from './helpers.ts';

export const busyboxImage = 'edgeos.test/busybox:1';

export class TestNode {
  readonly nodeName: string;
  readonly dir: string;
  readonly config: RuntimeConfig;
  rt!: EdgeContainerRuntime;
  cache!: AgentCache;
  sink = new RecordingSink();
  kubelet: Kubelet | undefined;
  private rtAbort = new AbortController();
  private kubeletAbort = new AbortController();
  private readonly pids = new Set<number>();

  constructor(name: string, podCidr: string, bridge: string) {
    this.nodeName = `node-${name}`;
    this.dir = mkdtempSync(`/tmp/eos-kl-${name}-`);
    mkdirSync(`${this.dir}/agent/images`, { recursive: true });
    writeFileSync(`${this.dir}/agent/images/busybox.tar`, busyboxArchive(busyboxImage));
    this.config = resolveRuntimeConfig({ dataDir: this.dir, podCidr, cniBridge: bridge, privateRegistry: `${this.dir}/registries.yaml` });
  }

  get rootDir(): string {
    return join(this.dir, 'agent', 'kubelet');
  }

  async startRuntime(): Promise<void> {
    this.rtAbort = new AbortController();
    this.rt = createContainerRuntime(this.config, { log: silentLogger() });
    await this.rt.start(this.rtAbort.signal);
    const pid = this.rt.containerdPid();
    if (pid) this.pids.add(pid);
  }

  async stopRuntime(): Promise<void> {
    const pid = this.rt.containerdPid();
    await this.rt.stop();
    this.rtAbort.abort();
    killPid(pid);
  }

  async openCache(): Promise<void> {
    this.cache = await openAgentCache({ file: join(this.dir, 'agent', 'cache.db'), log: silentLogger() });
  }

  /** A new kubelet (and a fresh sink) on the same cache and runtime, as after an agent restart. */
  async startKubelet(extra: Partial<KubeletOptions> = {}): Promise<RecordingSink> {
    this.sink = new RecordingSink();
    this.kubeletAbort = new AbortController();
    this.kubelet = createKubelet({
      nodeName: this.nodeName, runtime: this.rt, cache: this.cache, status: this.sink, log: silentLogger(),
      rootDir: this.rootDir, podLogDir: this.config.podLogsDir, ...extra,
    });
    await this.kubelet.start(this.kubeletAbort.signal);
    await this.kubelet.ready;
    return this.sink;
  }

  async stopKubelet(): Promise<void> {
    await this.kubelet?.stop();
    this.kubeletAbort.abort();
    this.kubelet = undefined;
  }

  async teardown(): Promise<void> {
    await this.stopKubelet().catch(() => undefined);
    await this.cache?.close().catch(() => undefined);
    await removeAllPods(this.config.endpoint);
    await this.rt?.stop().catch(() => undefined);
    this.rtAbort.abort();
    for (const pid of this.pids) killPid(pid);
    deleteLink(this.config.cni.bridge);
    removeDataDir(this.dir);
  }
}

export async function startNode(name: string, podCidr: string, bridge: string, kubeletOpts: Partial<KubeletOptions> = {}): Promise<TestNode> {
  const node = new TestNode(name, podCidr, bridge);
  try {
    await node.startRuntime();
    await node.openCache();
    await node.startKubelet(kubeletOpts);
  } catch (err) {
    await node.teardown();
    throw err;
  }
  return node;
}
