/**
 * The node's half of the built-in local volumes (docs/storage.md). The server's provisioner
 * creates the PersistentVolume of a claim as soon as the scheduler chose this node; the link
 * brings it here with the pods that use it. This component:
 *
 * - creates the volume's directory under the storage path when the volume arrives (the kubelet
 *   also makes sure of it before mounting: `ensureLocalVolume`);
 * - when the volume is being deleted and still carries LOCAL_PATH_FINALIZER, deletes the directory
 *   if its reclaim policy is Delete (keeps it otherwise), then asks the server to drop the
 *   finalizer so the object goes. The deletion waits in the object, not in this process: a node
 *   that was offline, or restarted, finds the Terminating volume in its cache and finishes the job
 *   when it can reach the server again — at start, on every cache change and, while a volume's
 *   work failed or waits, every RETRY_MS (nothing is listed while none does).
 */
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, normalize } from 'node:path';
import type { PersistentVolume } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LOCAL_PATH_FINALIZER, localPathNode } from '../../common/local-volumes.ts';
import type { AgentCache } from '../types.ts';

const RETRY_MS = 10_000;

export interface LocalVolumesOptions {
  readonly node: string;
  readonly cache: AgentCache;
  /** The storage path (`--default-local-storage-path`); new volumes are provisioned under it. */
  readonly root: string;
  /** Tells the server the node acted on the volume's data (the `volume-released` link message). */
  readonly release: (name: string) => Promise<unknown>;
  readonly log: Logger;
}

/**
 * The directory of a local volume this node holds, checked so that a volume object can never make
 * the agent touch anything but one directory named after it: an absolute, normalised path whose
 * last element starts with `<volume name>_`. Undefined for other volumes.
 */
export function localVolumeDir(pv: PersistentVolume, node: string): string | undefined {
  if (localPathNode(pv) !== node) return undefined;
  const path = pv.spec?.local?.path ?? '';
  const name = pv.metadata?.name ?? '';
  if (!name || !isAbsolute(path) || normalize(path) !== path || !basename(path).startsWith(`${name}_`)) return undefined;
  return path;
}

/**
 * Creations in progress in this process, by path. The volume arrives in the cache together with
 * the first pod that mounts it, so LocalVolumes and that pod's kubelet worker create the directory
 * at the same moment: both wait for one creation. Otherwise the loser's mkdir fails (EEXIST: a
 * FailedMount and a retry seconds later), or its chmod lands after the pod's fsGroup ownership
 * and takes the setgid bit away.
 */
const creating = new Map<string, Promise<void>>();

/**
 * Creates a local volume's directory when missing: mode 0777 as local-path-provisioner makes it,
 * so a container of any user can write (a pod's fsGroup then gives it to its group); its parent,
 * the storage path, is 0700, so other users of the host cannot reach it.
 */
export async function ensureLocalVolume(path: string): Promise<void> {
  const pending = creating.get(path);
  if (pending) return pending;
  if (await stat(path).catch(() => undefined)) return;
  // Looked again: another caller may have started while this one was in stat.
  const started = creating.get(path);
  if (started) return started;
  const create = (async () => {
    const parent = normalize(`${path}/..`);
    if (!(await stat(parent).catch(() => undefined))) {
      await mkdir(parent, { recursive: true, mode: 0o700 });
      await chmod(parent, 0o700);
    }
    try {
      await mkdir(path, { mode: 0o777 });
    } catch (e) {
      // A creation that began and ended while this caller was in stat: done, mode and all.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw e;
    }
    await chmod(path, 0o777); // mkdir's mode passes through the umask
  })().finally(() => creating.delete(path));
  creating.set(path, create);
  return create;
}

export class LocalVolumes {
  private readonly o: LocalVolumesOptions;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Volumes being worked on, so overlapping passes do not race on the same directory. */
  private readonly busy = new Set<string>();
  /** Volumes whose last handling failed (offline, refused, a directory not made): the retry pass is for them. */
  private readonly failed = new Set<string>();
  /** The last pass could not read the cache. */
  private passFailed = false;
  private stopped = false;

  constructor(o: LocalVolumesOptions) {
    this.o = o;
    this.log = o.log.child({ component: 'local-volumes' });
  }

  async start(): Promise<void> {
    await mkdir(this.o.root, { recursive: true, mode: 0o700 });
    this.unsubscribe = this.o.cache.subscribe((c) => {
      if (c.kind === 'PersistentVolume' && c.object) void this.handle(c.object as PersistentVolume);
    });
    const loop = (): void => {
      this.timer = setTimeout(() => void (this.failed.size > 0 || this.passFailed ? this.pass() : Promise.resolve()).finally(() => { if (!this.stopped) loop(); }), RETRY_MS);
    };
    await this.pass();
    loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  /** Every volume of this node in the cache (start, and the periodic retry while one failed). */
  private async pass(): Promise<void> {
    const all = (await this.o.cache.list('PersistentVolume').catch(() => undefined)) as PersistentVolume[] | undefined;
    this.passFailed = !all;
    if (!all) return;
    // A volume gone from the cache needs nothing more.
    const names = new Set(all.map((pv) => pv.metadata?.name ?? ''));
    for (const name of this.failed) if (!names.has(name)) this.failed.delete(name);
    await Promise.all(all.map((pv) => this.handle(pv)));
  }

  private async handle(pv: PersistentVolume): Promise<void> {
    const name = pv.metadata?.name ?? '';
    const dir = localVolumeDir(pv, this.o.node);
    if (!dir || this.stopped) return;
    if (this.busy.has(name)) {
      // This version arrived while an older one is handled: the retry pass takes it.
      this.failed.add(name);
      return;
    }
    this.busy.add(name);
    try {
      if (!pv.metadata?.deletionTimestamp) {
        await ensureLocalVolume(dir);
      } else if ((pv.metadata.finalizers ?? []).includes(LOCAL_PATH_FINALIZER)) {
        const remove = (pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain') === 'Delete';
        if (remove) await rm(dir, { recursive: true, force: true });
        await this.o.release(name);
        this.log.info({ volume: name, path: dir, data: remove ? 'deleted' : 'kept' }, 'local volume released');
      }
      this.failed.delete(name);
    } catch (err) {
      // Offline, or the server refused: the volume stays in the cache and the next pass retries.
      this.failed.add(name);
      this.log.debug({ volume: name, err: errorMessage(err) }, 'local volume not released yet');
    } finally {
      this.busy.delete(name);
    }
  }
}
