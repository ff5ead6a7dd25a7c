// One pool: its NodePool (when there is one) and its member nodes, watched by label selector.
import type { KObject } from './api.ts';
import { h, replace } from './dom.ts';
import type { NodeLink } from './link-traffic.ts';
import { followLinks } from './link-traffic.ts';
import { LiveList } from './live-list.ts';
import type { Page } from './page.ts';
import { online, podCounts, POOL_LABEL } from './nodes.ts';
import { columnHeader, LEASES_PATH, renderNodeRow } from './page-fleet.ts';
import type { FleetRow } from './page-fleet.ts';
import { VirtualList } from './vlist.ts';

export const poolPage: Page = ({ api, main }, name) => {
  let links: Record<string, NodeLink> = {};
  const facts = h('p', { class: 'summary' });
  const list = new VirtualList<FleetRow>({ label: `Nodes of pool ${name}`, key: (r) => r.node.metadata.name, render: renderNodeRow });
  replace(main, h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')), h('h1', {}, `Pool ${name}`), facts, columnHeader(), list.el);
  const draw = () => {
    const pool = pools.items.get(name);
    const counts = podCounts(pods.items.values());
    const now = Date.now();
    const rows = [...nodes.items.values()].map((n) => {
      const lease = leases.items.get(`kube-node-lease/${n.metadata.name}`);
      return { node: n, online: online(n, lease, now), lease, pods: counts.get(n.metadata.name) ?? 0, link: links[n.metadata.name] };
    });
    rows.sort((a, b) => Number(a.online) - Number(b.online) || a.node.metadata.name.localeCompare(b.node.metadata.name));
    const up = rows.filter((r) => r.online).length;
    facts.textContent = `${pool ? `NodePool type ${pool.spec?.type ?? 'Edge'}` : 'No NodePool object: nodes labelled into it'}. ${rows.length} nodes, ${up} online, ${rows.length - up} offline.`;
    list.setItems(rows);
  };
  const label = encodeURIComponent(`${POOL_LABEL}=${name}`);
  const nodes = new LiveList<KObject>(api, `/api/v1/nodes?labelSelector=${label}`, draw).start();
  const pools = new LiveList<KObject>(api, `/apis/apps.edgeos.io/v1/nodepools?fieldSelector=metadata.name%3D${encodeURIComponent(name)}`, draw).start();
  const leases = new LiveList<KObject>(api, LEASES_PATH, draw).start();
  const pods = new LiveList<KObject>(api, '/api/v1/pods', draw).start();
  const stopLinks = followLinks(api, undefined, (l) => {
    links = l;
    draw();
  });
  const tick = setInterval(draw, 10_000);
  return () => {
    clearInterval(tick);
    for (const l of [nodes, pools, leases, pods]) l.stop();
    stopLinks();
    list.dispose();
  };
};
