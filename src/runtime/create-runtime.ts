import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { Component } from '../common/supervisor.ts';
import { checkPodCidrFree, readRoutes } from './cni/cidr-check.ts';
import { writeConflist } from './cni/conflist.ts';
import type { RuntimeConfig } from './config.ts';
import { ContainerdSupervisor } from './containerd/supervisor.ts';
import { writeContainerdConfig } from './containerd/write-config.ts';
import { CriRuntime } from './cri-runtime.ts';
import { AirgapWatcher } from './images/airgap-watcher.ts';
import { importImageBuffer } from './images/ctr-import.ts';
import { hostImageArch } from './images/docker-archive.ts';
import { ImageGc } from './images/image-gc.ts';
import { pauseImageArchive } from './images/pause-image.ts';

export interface RuntimeDeps {
  log: Logger;
  /**
   * The owner (the agent's supervisor), told about a background failure (containerd cannot be
   * restarted); it must then stop the runtime. Without one the runtime stops itself.
   */
  onFailure?: (err: Error) => void;
}

export interface EdgeContainerRuntime extends CriRuntime {
  /** Runs one image garbage-collection pass now (also runs every imageGc.intervalMs). */
  collectImages(): ReturnType<ImageGc['collect']>;
  /** Rescans <data-dir>/agent/images now (also runs on file events). */
  importImages(): Promise<void>;
  /** The private containerd's pid, if one runs. */
  containerdPid(): number | undefined;
}

const cniPlugins = ['bridge', 'host-local', 'portmap', 'loopback'];

function step(name: string, start: (signal: AbortSignal) => Promise<void>, stop: () => Promise<void> = async () => {}, stopDeadlineMs?: number): Component {
  return { name, start, stop, ...(stopDeadlineMs ? { stopDeadlineMs } : {}) };
}

/** containerd gets SIGTERM, then SIGKILL after 10 s (containerd/supervisor.ts): its stop may take that long and a little. */
const CONTAINERD_STOP_DEADLINE_MS = 12_000;

/**
 * The runtime the agent uses. With a private containerd: write the CNI conflist and containerd's
 * config, start and supervise containerd, import the built-in pause image and the air-gap
 * tarballs, then collect images periodically. With --container-runtime-endpoint the socket is
 * used as it is: its owner configures CNI, sandbox image and registries.
 */
export function createContainerRuntime(config: RuntimeConfig, deps: RuntimeDeps): EdgeContainerRuntime {
  const log = deps.log.child({ component: 'runtime' });
  const components: Component[] = [];
  const cd = config.containerd;
  let supervisor: ContainerdSupervisor | undefined;
  let watcher: AirgapWatcher | undefined;
  let gc: ImageGc | undefined;

  if (cd) {
    components.push(step('cni', async () => {
      for (const p of cniPlugins) {
        await access(join(config.cni.binDir, p), constants.X_OK).catch(() => {
          throw new InvalidInputError(`--cni-bin-dir: ${config.cni.binDir} has no executable "${p}" CNI plugin`);
        });
      }
      checkPodCidrFree(config.cni, await readRoutes());
      const file = await writeConflist(config.cni);
      log.info({ file, bridge: config.cni.bridge, podCidr: config.cni.podCidr }, 'CNI config written');
    }));
    supervisor = new ContainerdSupervisor({
      paths: cd,
      log: log.child({ part: 'containerd' }),
      probe: async () => { await runtime.client.call('Version', { version: 'v1' }, { timeoutMs: 2000 }); },
      onFailure: (err) => runtime.fail('containerd', err),
    });
    const sup = supervisor;
    components.push(step('containerd', async (signal) => {
      await mkdir(config.podLogsDir, { recursive: true });
      await writeContainerdConfig(config, log);
      await sup.start(signal);
    }, () => sup.stop(), CONTAINERD_STOP_DEADLINE_MS));
  }
  const importTarget = { ctrPath: config.ctrPath, address: config.endpoint, log: log.child({ part: 'images' }) };
  if (cd && config.builtinPause) {
    components.push(step('pause-image', async () => {
      const arch = hostImageArch();
      const names = await importImageBuffer(importTarget, pauseImageArchive(arch, config.pauseImage), 'built-in pause image');
      log.info({ image: config.pauseImage, arch, imported: names }, 'pause image imported');
    }));
  }
  if (cd) {
    const w = new AirgapWatcher({ ...importTarget, dir: config.imagesDir, rescanMs: config.imageGc.intervalMs });
    watcher = w;
    components.push(step('airgap-images', (signal) => w.start(signal), () => w.stop()));
    components.push(step('image-gc', async () => {
      gc = new ImageGc({
        runtime,
        fsPath: cd.root,
        ...config.imageGc,
        keep: [config.pauseImage],
        log: log.child({ part: 'image-gc' }),
      });
      await gc.start();
    }, async () => gc?.stop()));
  }

  const runtime = new CriRuntime({
    endpoint: config.endpoint,
    log,
    requestTimeoutMs: config.requestTimeoutMs,
    podLogsDir: config.podLogsDir,
    components,
    ...(deps.onFailure ? { onFailure: deps.onFailure } : {}),
  });
  return Object.assign(runtime, {
    collectImages: () => {
      if (!gc) throw new InvalidInputError('image garbage collection runs only with the private containerd');
      return gc.collect();
    },
    importImages: async () => { await watcher?.scan(); },
    containerdPid: () => supervisor?.pid,
  });
}
