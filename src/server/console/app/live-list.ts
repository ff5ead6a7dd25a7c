// One live collection per list on a page: the first page (limit) paints at once, the rest follow
// with `continue`, then ONE watch from the list's resourceVersion keeps it current. A watch the
// server ends is resumed from the last version seen; a version too old (410) lists again.
import { ApiError } from './api.ts';
import type { Api, KObject } from './api.ts';

const PAGE = 500;

export const keyOf = (o: KObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

export class LiveList<T extends KObject> {
  readonly items = new Map<string, T>();
  /** True once every page is in. */
  complete = false;
  error: string | undefined;
  private readonly ctrl = new AbortController();
  private scheduled = false;

  private readonly api: Api;
  private readonly path: string;
  private readonly onChange: () => void;

  constructor(api: Api, path: string, onChange: () => void) {
    this.api = api;
    this.path = path;
    this.onChange = onChange;
  }

  start(): this {
    void this.run();
    return this;
  }

  stop(): void {
    this.ctrl.abort();
  }

  /** Many events arrive together (10,000 Leases renew every 10 s): one render per frame. */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (!this.ctrl.signal.aborted) this.onChange();
    });
  }

  private async list(): Promise<string> {
    const signal = this.ctrl.signal;
    const fresh = new Map<string, T>();
    let cont = '';
    let rv = '';
    let first = true;
    do {
      const sep = this.path.includes('?') ? '&' : '?';
      const page = await this.api.get(`${this.path}${sep}limit=${PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, signal);
      for (const o of page.items as T[]) fresh.set(keyOf(o), o);
      cont = page.metadata?.continue ?? '';
      rv = page.metadata?.resourceVersion ?? rv;
      if (first && this.items.size === 0) {
        // The first page paints before the others arrive.
        for (const [k, o] of fresh) this.items.set(k, o);
        this.changed();
      }
      first = false;
    } while (cont);
    this.items.clear();
    for (const [k, o] of fresh) this.items.set(k, o);
    this.complete = true;
    this.error = undefined;
    this.changed();
    return rv;
  }

  private async run(): Promise<void> {
    const signal = this.ctrl.signal;
    let rv: string | undefined;
    let backoff = 500;
    while (!signal.aborted) {
      try {
        rv ??= await this.list();
        rv = await this.api.watch<T>(this.path, rv, (e) => {
          const k = keyOf(e.object);
          if (e.type === 'DELETED') this.items.delete(k);
          else this.items.set(k, e.object);
          this.changed();
        }, signal);
        backoff = 500;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.status === 410) rv = undefined;
        else {
          this.error = err instanceof Error ? err.message : String(err);
          this.changed();
          if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return;
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 10_000);
        }
      }
    }
  }
}
