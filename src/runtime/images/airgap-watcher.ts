import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../common/errors.ts';
import { importImageFile } from './ctr-import.ts';
import type { ImportTarget } from './ctr-import.ts';

const archiveRe = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.zstd)$/;

export interface AirgapWatcherOptions extends ImportTarget {
  dir: string;
  /** Rescan interval; fs.watch misses events on some filesystems (overlay, NFS). */
  rescanMs?: number;
}

/**
 * Air-gapped images: every archive in <data-dir>/agent/images is imported into containerd's
 * k8s.io namespace at start (ready waits for it) and again whenever a file appears or changes.
 * A file is imported once per (size, mtime); a file still being copied is left until its size
 * stops changing. A failed import is logged and retried only when the file changes.
 */
export class AirgapWatcher {
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private readonly opts: AirgapWatcherOptions;
  private readonly seen = new Map<string, string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(opts: AirgapWatcherOptions) {
    this.opts = opts;
    this.ready = new Promise((r) => { this.resolveReady = r; });
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    await mkdir(this.opts.dir, { recursive: true });
    await this.scan();
    this.resolveReady();
    if (this.stopped) return;
    this.watcher = watch(this.opts.dir, () => void this.scan());
    this.watcher.on('error', (err) => this.opts.log.warn({ err: errorMessage(err) }, 'image dir watch failed; rescanning periodically'));
    this.timer = setInterval(() => void this.scan(), this.opts.rescanMs ?? 30_000);
    this.timer.unref();
  }

  /** One pass over the directory; concurrent triggers coalesce into one follow-up pass. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        await this.scanOnce();
      } while (this.again && !this.stopped);
    })().finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const names = (await readdir(this.opts.dir).catch(() => [] as string[])).filter((n) => archiveRe.test(n)).sort();
    for (const name of names) {
      if (this.stopped) return;
      const file = join(this.opts.dir, name);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const key = `${st.size}:${st.mtimeMs}`;
      if (this.seen.get(file) === key) continue;
      // Still being written? Wait until the size holds for half a second.
      await new Promise((r) => setTimeout(r, 500));
      const again = await stat(file).catch(() => undefined);
      if (!again || again.size !== st.size || again.mtimeMs !== st.mtimeMs) {
        this.again = true;
        continue;
      }
      this.seen.set(file, key);
      this.opts.log.info({ file, size: st.size }, 'importing image archive');
      try {
        await importImageFile(this.opts, file, st.size);
      } catch (err) {
        this.opts.log.error({ file, err: errorMessage(err) }, 'image archive import failed');
      }
    }
  }

  /** Stops watching; an import already running is let finish (ctr killed halfway leaves a lease). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
  }
}
