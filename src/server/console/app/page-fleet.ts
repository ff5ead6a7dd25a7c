// The fleet: pools → nodes, online or offline with "last seen", link bytes per hour, pods,
// versions, architectures. Three lists (Nodes, their Leases, Pods), each listed in pages and then
// watched once; one virtualised list draws however many nodes there are.
import type { KObject } from './api.ts';
import { h, replace } from './dom.ts';
import { ago, bytes } from './format.ts';
import { followLinks } from './link-traffic.ts';
import type { NodeLink } from './link-traffic.ts';
import { LiveList } from './live-list.ts';
import type { Page } from './page.ts';
import { archOf, lastSeen, online, podCounts, poolOf } from './nodes.ts';
import { VirtualList } from './vlist.ts';

export const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

export interface FleetRow {
  readonly node: KObject;
  readonly online: boolean;
  readonly lease: KObject | undefined;
  readonly pods: number;
  readonly link: NodeLink | undefined;
}

/** One node as a row: the same on the fleet and pool pages. */
export function renderNodeRow(r: FleetRow, a: HTMLAnchorElement): string {
  const name = r.node.metadata.name;
  const up = r.online;
  const info = r.node.status?.nodeInfo ?? {};
  a.className = `row ${up ? 'online' : 'offline'}`;
  a.dataset.node = name;
  a.dataset.state = up ? 'online' : 'offline';
  a.append(
    h('span', { class: 'state' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), up ? 'online' : 'offline'),
    h('span', { class: 'name' }, name),
    h('span', { class: 'pool' }, poolOf(r.node) || '—'),
    h('span', { class: 'seen', title: lastSeen(r.node, r.lease) ?? '' }, `seen ${ago(lastSeen(r.node, r.lease))}`),
    h('span', { class: 'bytes' }, r.link ? `${bytes(r.link.bytesLastHour)}/h` : '–'),
    h('span', { class: 'pods' }, `${r.pods} pods`),
    h('span', { class: 'version' }, info.kubeletVersion ?? ''),
    h('span', { class: 'arch' }, archOf(r.node)),
  );
  return `#/node/${encodeURIComponent(name)}`;
}

export const NODE_COLUMNS = ['State', 'Name', 'Pool', 'Last seen', 'Link', 'Pods', 'Version', 'Arch'];

export const columnHeader = (): HTMLElement =>
  h('div', { class: 'row head', 'aria-hidden': 'true' }, NODE_COLUMNS.map((c) => h('span', { class: c.toLowerCase().replace(/ /g, '-') }, c)));

export const fleetPage: Page = ({ api, main }) => {
  let links: Record<string, NodeLink> = {};
  const status = h('p', { class: 'muted', id: 'fleet-status', 'aria-live': 'polite' }, 'Loading nodes…');
  const summary = h('p', { class: 'summary', id: 'fleet-summary' });
  const pools = h('ul', { class: 'pools', 'aria-label': 'Pools' });
  const filter = h('input', { id: 'filter', type: 'search', placeholder: 'name, pool, version…', autocomplete: 'off' });
  const show = h('select', { id: 'show' }, h('option', { value: 'all' }, 'all nodes'), h('option', { value: 'offline' }, 'offline only'), h('option', { value: 'online' }, 'online only'));
  const list = new VirtualList<FleetRow>({ label: 'Nodes', key: (r) => r.node.metadata.name, render: renderNodeRow });
  replace(main,
    h('h1', {}, 'Fleet'), summary, status,
    h('section', { 'aria-labelledby': 'pools-title' }, h('h2', { id: 'pools-title' }, 'Pools'), pools),
    h('section', { 'aria-labelledby': 'nodes-title' },
      h('h2', { id: 'nodes-title' }, 'Nodes'),
      h('div', { class: 'filters' }, h('label', { for: 'filter' }, 'Filter'), filter, h('label', { for: 'show' }, 'Show'), show),
      columnHeader(), list.el));

  const draw = () => {
    const counts = podCounts(pods.items.values());
    const q = filter.value.trim().toLowerCase();
    const want = show.value;
    const all: FleetRow[] = [];
    const perPool = new Map<string, { up: number; total: number }>();
    let up = 0;
    const now = Date.now();
    for (const n of nodes.items.values()) {
      const p = poolOf(n);
      const s = perPool.get(p) ?? { up: 0, total: 0 };
      const lease = leases.items.get(`kube-node-lease/${n.metadata.name}`);
      const isUp = online(n, lease, now);
      s.total++;
      if (isUp) {
        s.up++;
        up++;
      }
      perPool.set(p, s);
      all.push({ node: n, online: isUp, lease, pods: counts.get(n.metadata.name) ?? 0, link: links[n.metadata.name] });
    }
    const rows = all.filter((r) => {
      if (want !== 'all' && (want === 'online') !== r.online) return false;
      if (!q) return true;
      const info = r.node.status?.nodeInfo ?? {};
      return [r.node.metadata.name, poolOf(r.node), info.kubeletVersion, archOf(r.node)].some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
    });
    // Offline first (what an operator looks for), then by pool and name.
    rows.sort((a, b) => Number(a.online) - Number(b.online) || poolOf(a.node).localeCompare(poolOf(b.node)) || a.node.metadata.name.localeCompare(b.node.metadata.name));
    list.setItems(rows);
    summary.textContent = `${nodes.items.size} nodes: ${up} online, ${nodes.items.size - up} offline`;
    status.textContent = nodes.error ? `Cannot read nodes: ${nodes.error}` : nodes.complete ? '' : `Loading nodes… ${nodes.items.size} so far`;
    replace(pools, [...perPool].sort(([a], [b]) => a.localeCompare(b)).map(([p, s]) =>
      h('li', {}, p
        ? h('a', { href: `#/pool/${encodeURIComponent(p)}`, class: s.up < s.total ? 'pool-chip degraded' : 'pool-chip' }, `${p} `, h('span', {}, `${s.up}/${s.total} online`))
        : h('span', { class: 'pool-chip' }, 'no pool ', h('span', {}, `${s.up}/${s.total} online`)))));
    main.dataset.ready = nodes.complete ? 'true' : 'false';
  };
  const nodes = new LiveList<KObject>(api, '/api/v1/nodes', draw).start();
  const leases = new LiveList<KObject>(api, LEASES_PATH, draw).start();
  const pods = new LiveList<KObject>(api, '/api/v1/pods', draw).start();
  const stopLinks = followLinks(api, undefined, (l) => {
    links = l;
    draw();
  });
  filter.addEventListener('input', draw);
  show.addEventListener('change', draw);
  // "seen 3 min ago" ages without any event: redraw the text every 10 s (no request).
  const tick = setInterval(draw, 10_000);
  return () => {
    for (const l of [nodes, leases, pods]) l.stop();
    stopLinks();
    list.dispose();
    clearInterval(tick);
  };
};
