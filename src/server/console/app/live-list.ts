// One live collection per list on a page: the first page (limit) paints at once, the rest follow
// with `continue`, then ONE watch from the list's resourceVersion keeps it current. A watch the
// server ends is resumed from the last version seen; a version too old (410) lists again.
import { ApiError } from './api.ts';
import type { Api, KObject } from './api.ts';

const PAGE = 500;

export const keyOf = (o: KObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

/**
 * edgeos's resourceVersions are its store's revisions (decimal integers), so two versions of an
 * object compare; an event older than what is held is stale and must not be drawn over it (a node
 * red once, then green again from an older event). Anything not a decimal integer compares as
 * unknown (undefined) and is applied, as a client of another API server would have to.
 */
export function newerOrSame(held: string | undefined, incoming: string | undefined): boolean {
  if (!held || !incoming || !/^\d+$/.test(held) || !/^\d+$/.test(incoming)) return true;
  return held.length !== incoming.length ? incoming.length > held.length : incoming >= held;
}

export class LiveList<T extends KObject> {
  readonly items = new Map<string, T>();
  /** Keys deleted by a watch event, with the deletion's resourceVersion. */
  private readonly gone = new Map<string, string>();
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
          const incoming = e.object.metadata.resourceVersion;
          if (!newerOrSame(this.items.get(k)?.metadata.resourceVersion ?? this.gone.get(k), incoming)) return;
          if (e.type === 'DELETED') {
            this.items.delete(k);
            // Remember the deletion's version for a while: an older ADDED/MODIFIED must not revive it.
            this.gone.set(k, incoming ?? '');
            if (this.gone.size > 1000) this.gone.delete(this.gone.keys().next().value!);
          } else {
            this.gone.delete(k);
            this.items.set(k, e.object);
          }
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
