// A virtualised list: only the rows in (and just around) the viewport exist in the document, so
// 10,000 nodes cost as much to draw as 30. The page itself scrolls (phones keep their native
// scrolling); rows have one height per layout (taller on narrow screens). Keyboard: Tab reaches the
// list, the arrow keys, Page Up/Down, Home and End move between rows, Enter opens one.
import { h } from './dom.ts';

export interface VirtualListOptions<T> {
  readonly label: string;
  readonly key: (item: T) => string;
  /** Fills a row's link (already emptied) for the item; returns the link's target. */
  readonly render: (item: T, link: HTMLAnchorElement) => string;
}

const OVERSCAN = 8;

export class VirtualList<T> {
  readonly el: HTMLUListElement;
  private items: readonly T[] = [];
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
    this.items = items;
    this.el.style.height = `${items.length * this.rowHeight}px`;
    for (const li of this.rows.values()) li.remove();
    this.rows.clear();
    this.draw();
  }

  private draw(): void {
    if (!this.el.isConnected) return;
    const rh = this.rowHeight;
    const top = this.el.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / rh) - OVERSCAN);
    const last = Math.min(this.items.length, Math.ceil((innerHeight - top) / rh) + OVERSCAN);
    const focusedIndex = this.focusedIndex();
    for (const [i, li] of this.rows) {
      if ((i < first || i >= last) && i !== focusedIndex) {
        li.remove();
        this.rows.delete(i);
      }
    }
    for (let i = first; i < last; i++) if (!this.rows.has(i)) this.row(i);
  }

  private row(i: number): HTMLLIElement {
    const item = this.items[i]!;
    const a = h('a', { 'data-index': i });
    a.href = this.o.render(item, a);
    const li = h('li', { 'aria-setsize': this.items.length, 'aria-posinset': i + 1 }, a);
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
    if (at === undefined || this.items.length === 0) return;
    const page = Math.max(1, Math.floor(innerHeight / this.rowHeight) - 1);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page, Home: 0, End: this.items.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const i = Math.min(this.items.length - 1, Math.max(0, to));
    const y = this.el.getBoundingClientRect().top + scrollY + i * this.rowHeight;
    if (y < scrollY + 60 || y + this.rowHeight > scrollY + innerHeight) scrollTo({ top: y - innerHeight / 2 });
    this.draw();
    (this.rows.get(i) ?? this.row(i)).querySelector('a')!.focus({ preventScroll: true });
  }
}
