// A virtualised list: only the rows in (and just around) the viewport exist in the document, so
// 10,000 nodes cost as much to draw as 30. The items need not all be here: the list knows how
// many there are and asks (`need`) for the ones it is about to draw, which the page fetches a page
// at a time from the server; until they arrive their rows say so. The page itself scrolls (phones keep their native
// scrolling); rows have one height per layout (taller on narrow screens). Keyboard: Tab reaches the
// list, the arrow keys, Page Up/Down, Home and End move between rows, Enter opens one.
import { h } from './dom.ts';

export interface VirtualListOptions<T> {
  readonly label: string;
  readonly key: (item: T) => string;
  /** Fills a row's link (already emptied) for the item; returns the link's target. */
  readonly render: (item: T, link: HTMLAnchorElement) => string;
  /** Items first…last-1 are about to be drawn: fetch the missing ones, then call refresh(). */
  readonly need?: (first: number, last: number) => void;
}

const OVERSCAN = 8;

export class VirtualList<T> {
  readonly el: HTMLUListElement;
  private count = 0;
  private get: (i: number) => T | undefined = () => undefined;
  private readonly rows = new Map<number, HTMLLIElement>();
  private readonly narrow = matchMedia('(max-width: 640px)');
  private readonly onScroll = () => this.draw();

  private readonly o: VirtualListOptions<T>;

  constructor(o: VirtualListOptions<T>) {
    this.o = o;
    this.el = h('ul', { class: 'vlist', 'aria-label': o.label });
    this.el.addEventListener('keydown', (e) => this.key(e));
    addEventListener('scroll', this.onScroll, { passive: true });
    addEventListener('resize', this.onScroll);
  }

  dispose(): void {
    removeEventListener('scroll', this.onScroll);
    removeEventListener('resize', this.onScroll);
  }

  private get rowHeight(): number {
    return this.narrow.matches ? 64 : 40;
  }

  setItems(items: readonly T[]): void {
    this.setSource(items.length, (i) => items[i]);
  }

  /** `count` items, item i read with `get(i)` (undefined: not fetched yet); redraws the rows in view. */
  setSource(count: number, get: (i: number) => T | undefined): void {
    this.count = count;
    this.get = get;
    this.el.style.height = `${count * this.rowHeight}px`;
    const focused = this.focusedIndex();
    for (const [i, li] of this.rows) {
      // The focused row is redrawn in place, so that keyboard focus survives an update.
      if (i === focused && i < count) continue;
      li.remove();
    }
    const keep = focused !== undefined && focused < count ? this.rows.get(focused) : undefined;
    this.rows.clear();
    if (keep && focused !== undefined) {
      this.rows.set(focused, keep);
      this.fill(focused, keep.querySelector('a')!);
    }
    this.draw();
  }

  /** The range of items in (and around) the view. */
  range(): { first: number; last: number } {
    const rh = this.rowHeight;
    const top = this.el.isConnected ? this.el.getBoundingClientRect().top : 0;
    return { first: Math.max(0, Math.floor(-top / rh) - OVERSCAN), last: Math.min(this.count, Math.ceil((innerHeight - top) / rh) + OVERSCAN) };
  }

  private draw(): void {
    if (!this.el.isConnected) return;
    const { first, last } = this.range();
    if (last > first) this.o.need?.(first, last);
    const focusedIndex = this.focusedIndex();
    for (const [i, li] of this.rows) {
      if ((i < first || i >= last) && i !== focusedIndex) {
        li.remove();
        this.rows.delete(i);
      }
    }
    for (let i = first; i < last; i++) if (!this.rows.has(i)) this.row(i);
  }

  /** Draws item i into its (emptied) link, or says it is on its way. */
  private fill(i: number, a: HTMLAnchorElement): void {
    a.replaceChildren();
    for (const k of Object.keys(a.dataset)) if (k !== 'index') delete a.dataset[k];
    const item = this.get(i);
    if (item === undefined) {
      a.className = 'row loading';
      a.removeAttribute('href');
      a.tabIndex = -1;
      a.append(h('span', { class: 'muted' }, 'Loading…'));
      return;
    }
    a.removeAttribute('tabindex');
    a.href = this.o.render(item, a);
  }

  private row(i: number): HTMLLIElement {
    const a = h('a', { 'data-index': i });
    this.fill(i, a);
    const li = h('li', { 'aria-setsize': this.count, 'aria-posinset': i + 1 }, a);
    li.style.top = `${i * this.rowHeight}px`;
    li.style.height = `${this.rowHeight}px`;
    this.el.appendChild(li);
    this.rows.set(i, li);
    return li;
  }

  private focusedIndex(): number | undefined {
    const a = document.activeElement;
    return a instanceof HTMLElement && this.el.contains(a) && a.dataset.index !== undefined ? Number(a.dataset.index) : undefined;
  }

  private key(e: KeyboardEvent): void {
    const at = this.focusedIndex();
    if (at === undefined || this.count === 0) return;
    const page = Math.max(1, Math.floor(innerHeight / this.rowHeight) - 1);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page, Home: 0, End: this.count - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const i = Math.min(this.count - 1, Math.max(0, to));
    const y = this.el.getBoundingClientRect().top + scrollY + i * this.rowHeight;
    if (y < scrollY + 60 || y + this.rowHeight > scrollY + innerHeight) scrollTo({ top: y - innerHeight / 2 });
    this.draw();
    (this.rows.get(i) ?? this.row(i)).querySelector('a')!.focus({ preventScroll: true });
  }
}
