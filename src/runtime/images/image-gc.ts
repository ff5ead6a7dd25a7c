import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { filesystemUsage } from '../stats/node-stats.ts';
import type { ContainerRuntime, Image } from '../types.ts';

export interface ImageGcOptions {
  runtime: Pick<ContainerRuntime, 'listImages' | 'listContainers' | 'removeImage'>;
  /** A path on the image filesystem (containerd's root). */
  fsPath: string;
  highPercent: number;
  lowPercent: number;
  intervalMs: number;
  /** Never removed, e.g. the sandbox image: every new pod needs it and it may not be pullable. */
  keep: readonly string[];
  log: Logger;
}

export interface GcResult {
  usedPercent: number;
  removed: string[];
  freedBytes: number;
}

/**
 * kubelet-style image garbage collection: when the image filesystem is above highPercent, remove
 * images no container uses — least recently used first (as far as this process has seen; then
 * largest first) — until usage would be at lowPercent. Sizes are containerd's own accounting, so
 * "would be" is an estimate; the next pass corrects it.
 */
export class ImageGc {
  private readonly opts: ImageGcOptions;
  private readonly lastUsed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<GcResult> | undefined;

  readonly name = 'image-gc';

  constructor(opts: ImageGcOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      this.collect().catch((err) => this.opts.log.warn({ err: errorMessage(err) }, 'image garbage collection failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  collect(): Promise<GcResult> {
    this.running ??= this.collectOnce().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async collectOnce(): Promise<GcResult> {
    const { runtime, log } = this.opts;
    const [images, containers] = await Promise.all([runtime.listImages(), runtime.listContainers()]);
    const now = Date.now();
    const inUse = new Set<string>();
    for (const c of containers) {
      inUse.add(c.imageRef);
      inUse.add(c.image);
    }
    const used = (i: Image): boolean => inUse.has(i.id) || i.repoTags.some((t) => inUse.has(t)) || i.repoDigests.some((d) => inUse.has(d));
    for (const i of images) if (used(i)) this.lastUsed.set(i.id, now);

    const fs = await filesystemUsage(this.opts.fsPath);
    const usedPercent = (fs.usedBytes / fs.capacityBytes) * 100;
    const result: GcResult = { usedPercent, removed: [], freedBytes: 0 };
    if (usedPercent < this.opts.highPercent) return result;

    const toFree = fs.usedBytes - (fs.capacityBytes * this.opts.lowPercent) / 100;
    const keep = new Set(this.opts.keep);
    const candidates = images
      .filter((i) => !used(i) && !i.pinned && !i.repoTags.some((t) => keep.has(t)))
      .sort((a, b) => (this.lastUsed.get(a.id) ?? 0) - (this.lastUsed.get(b.id) ?? 0) || b.sizeBytes - a.sizeBytes);
    log.info({ usedPercent: Math.round(usedPercent), highPercent: this.opts.highPercent, toFreeBytes: Math.round(toFree), candidates: candidates.length }, 'image filesystem above threshold; collecting images');
    for (const img of candidates) {
      if (result.freedBytes >= toFree) break;
      try {
        await runtime.removeImage(img.id);
        result.removed.push(img.id);
        result.freedBytes += img.sizeBytes;
        this.lastUsed.delete(img.id);
        log.info({ image: img.repoTags[0] ?? img.id, bytes: img.sizeBytes }, 'removed unused image');
      } catch (err) {
        log.warn({ image: img.id, err: errorMessage(err) }, 'could not remove image');
      }
    }
    return result;
  }
}
