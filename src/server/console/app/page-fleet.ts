// The fleet: pools → nodes, online or offline with "last seen", link bytes per hour, pods,
// versions, architectures. The counts and the first rows come in one small answer from the
// server's fleet view (fleet-rows.ts), however many nodes there are; the virtualised list fetches
// further rows as it is scrolled; one change stream keeps what is shown current.
import { h, replace } from './dom.ts';
import { FleetRows } from './fleet-rows.ts';
import type { FleetRow } from './fleet-rows.ts';
import { ago, bytes } from './format.ts';
import type { Page } from './page.ts';
import { VirtualList } from './vlist.ts';

/** Pool chips shown above the node list; more go into a disclosure. */
const POOL_CHIPS = 24;

export const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

/** One node as a row: the same on the fleet and pool pages. */
export function renderNodeRow(r: FleetRow, a: HTMLAnchorElement): string {
  a.className = `row ${r.online ? 'online' : 'offline'}`;
  a.dataset.node = r.name;
  a.dataset.state = r.online ? 'online' : 'offline';
  a.append(
    h('span', { class: 'state' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), r.online ? 'online' : 'offline'),
    h('span', { class: 'name' }, r.name),
    h('span', { class: 'pool' }, r.pool || '—'),
    h('span', { class: 'seen', title: r.lastSeen ?? '' }, `seen ${ago(r.lastSeen)}`),
    h('span', { class: 'bytes' }, r.bytesLastHour !== undefined ? `${bytes(r.bytesLastHour)}/h` : '–'),
    h('span', { class: 'pods' }, r.pods === null ? '–' : `${r.pods} pods`),
    h('span', { class: 'version' }, r.version),
    h('span', { class: 'arch' }, r.arch),
  );
  return `#/node/${encodeURIComponent(r.name)}`;
}

export const NODE_COLUMNS = ['State', 'Name', 'Pool', 'Last seen', 'Link', 'Pods', 'Version', 'Arch'];

export const columnHeader = (): HTMLElement =>
  h('div', { class: 'row head', 'aria-hidden': 'true' }, NODE_COLUMNS.map((c) => h('span', { class: c.toLowerCase().replace(/ /g, '-') }, c)));

/** The node list of the fleet or of one pool, wired to the server's fleet view. */
export function nodeList(rows: () => FleetRows, label: string): VirtualList<FleetRow> {
  return new VirtualList<FleetRow>({ label, key: (r) => r.name, render: renderNodeRow, need: (first, last) => rows().need(first, last) });
}

export const fleetPage: Page = ({ api, main }) => {
  const status = h('p', { class: 'muted', id: 'fleet-status', 'aria-live': 'polite' }, 'Loading nodes…');
  const summary = h('p', { class: 'summary', id: 'fleet-summary' });
  const pools = h('ul', { class: 'pools', 'aria-label': 'Pools' });
  const morePools = h('div', { id: 'more-pools' });
  const filter = h('input', { id: 'filter', type: 'search', placeholder: 'name, pool, version…', autocomplete: 'off' });
  const show = h('select', { id: 'show' }, h('option', { value: 'all' }, 'all nodes'), h('option', { value: 'offline' }, 'offline only'), h('option', { value: 'online' }, 'online only'));
  const list = nodeList(() => rows, 'Nodes');
  replace(main,
    h('h1', {}, 'Fleet'), summary, status,
    h('section', { 'aria-labelledby': 'pools-title' }, h('h2', { id: 'pools-title' }, 'Pools'), pools, morePools),
    h('section', { 'aria-labelledby': 'nodes-title' },
      h('h2', { id: 'nodes-title' }, 'Nodes'),
      h('div', { class: 'filters' }, h('label', { for: 'filter' }, 'Filter'), filter, h('label', { for: 'show' }, 'Show'), show),
      columnHeader(), list.el));

  let drawnPools = '';
  const draw = () => {
    const a = rows.answer;
    status.textContent = rows.error ? `Cannot read nodes: ${rows.error}` : a ? (a.matched === 0 && a.summary.total > 0 ? 'No node matches.' : '') : 'Loading nodes…';
    if (!a) return;
    const s = a.summary;
    summary.textContent = `${s.total} nodes: ${s.online} online, ${s.offline} offline`;
    const poolKey = JSON.stringify(s.pools);
    if (poolKey !== drawnPools) {
      drawnPools = poolKey;
      const chip = (p: (typeof s.pools)[number]) =>
        h('li', {}, p.pool
          ? h('a', { href: `#/pool/${encodeURIComponent(p.pool)}`, class: p.online < p.total ? 'pool-chip degraded' : 'pool-chip' }, `${p.pool} `, h('span', {}, `${p.online}/${p.total} online`))
          : h('span', { class: 'pool-chip' }, 'no pool ', h('span', {}, `${p.online}/${p.total} online`)));
      // A fleet of many pools (a shop chain: a hundred and more) would push the node list below the
      // first screen: the pools with offline nodes first, up to POOL_CHIPS, the others one click away.
      const ordered = s.pools.length > POOL_CHIPS ? [...s.pools.filter((p) => p.online < p.total), ...s.pools.filter((p) => p.online >= p.total)] : s.pools;
      replace(pools, ordered.slice(0, POOL_CHIPS).map(chip));
      const rest = ordered.slice(POOL_CHIPS);
      replace(morePools, ...(rest.length > 0
        ? [h('details', {}, h('summary', {}, `${rest.length} more pools`), h('ul', { class: 'pools', 'aria-label': 'More pools' }, rest.map(chip)))]
        : []));
    }
    list.setSource(rows.count, (i) => rows.get(i));
    main.dataset.ready = 'true';
  };
  const rows = new FleetRows(api, () => ({ show: show.value, q: filter.value.trim() }), draw);
  rows.reset();
  rows.follow(() => {
    const r = list.range();
    rows.refresh(r.first, r.last);
  });
  let typing: ReturnType<typeof setTimeout> | undefined;
  filter.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => rows.reset(), 150);
  });
  show.addEventListener('change', () => rows.reset());
  // "seen 3 min ago" ages without any event: redraw the text every 10 s (no request).
  const tick = setInterval(draw, 10_000);
  return () => {
    rows.stop();
    list.dispose();
    clearInterval(tick);
    clearTimeout(typing);
  };
};
