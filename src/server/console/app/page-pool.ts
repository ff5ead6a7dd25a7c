// One pool: its NodePool (when there is one) and its member nodes, from the server's fleet view
// (the pool's own counts, its nodes a page at a time, offline first).
import type { KObject } from './api.ts';
import { h, replace } from './dom.ts';
import { FleetRows } from './fleet-rows.ts';
import { LiveList } from './live-list.ts';
import type { Page } from './page.ts';
import { columnHeader, nodeList } from './page-fleet.ts';

export const poolPage: Page = ({ api, main }, name) => {
  const facts = h('p', { class: 'summary', id: 'pool-summary' });
  const status = h('p', { class: 'muted', id: 'pool-status', 'aria-live': 'polite' }, 'Loading nodes…');
  const list = nodeList(() => rows, `Nodes of pool ${name}`);
  replace(main, h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')), h('h1', {}, `Pool ${name}`), facts, status, columnHeader(), list.el);
  const draw = () => {
    const pool = pools.items.get(name);
    const a = rows.answer;
    status.textContent = rows.error ? `Cannot read nodes: ${rows.error}` : a ? '' : 'Loading nodes…';
    if (!a) return;
    const s = a.summary;
    facts.textContent = `${pool ? `NodePool type ${pool.spec?.type ?? 'Edge'}` : 'No NodePool object: nodes labelled into it'}. ${s.total} nodes, ${s.online} online, ${s.offline} offline.`;
    list.setSource(rows.count, (i) => rows.get(i));
    main.dataset.ready = 'true';
  };
  const rows = new FleetRows(api, () => ({ show: 'all', q: '', pool: name }), draw);
  rows.reset();
  rows.follow(() => {
    const r = list.range();
    rows.refresh(r.first, r.last);
  });
  const pools = new LiveList<KObject>(api, `/apis/apps.edgeos.io/v1/nodepools?fieldSelector=metadata.name%3D${encodeURIComponent(name)}`, draw).start();
  const tick = setInterval(draw, 10_000);
  return () => {
    clearInterval(tick);
    pools.stop();
    rows.stop();
    list.dispose();
  };
};
