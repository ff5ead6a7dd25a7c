// One node: its conditions, pods, events and link history; each list watched.
import type { KObject } from './api.ts';
import { h, replace } from './dom.ts';
import { ago, bytes } from './format.ts';
import { followLinks } from './link-traffic.ts';
import type { NodeLink } from './link-traffic.ts';
import { LiveList } from './live-list.ts';
import type { Page } from './page.ts';
import { archOf, lastSeen, online, poolOf } from './nodes.ts';
import { LEASES_PATH } from './page-fleet.ts';

const table = (caption: string, head: string[], rows: (string | Node)[][], empty: string): HTMLElement =>
  rows.length === 0
    ? h('p', { class: 'muted' }, empty)
    : h('div', { class: 'scroll' }, h('table', {}, h('caption', {}, caption),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));

export const nodePage: Page = ({ api, main }, name) => {
  const sel = encodeURIComponent(name);
  let link: NodeLink | undefined;
  const out = h('div');
  replace(main, h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')), out);
  const draw = () => {
    const node = nodes.items.get(name);
    if (!node) {
      replace(out, h('h1', {}, name), h('p', { class: nodes.error ? 'error' : 'muted' }, nodes.error ?? (nodes.complete ? 'No such node (or it was deleted).' : 'Loading…')));
      return;
    }
    const info = node.status?.nodeInfo ?? {};
    const lease = leases.items.get(`kube-node-lease/${name}`);
    const up = online(node, lease);
    const pool = poolOf(node);
    replace(out,
      h('h1', {}, name, ' ', h('span', { class: `badge ${up ? 'online' : 'offline'}`, id: 'node-state', 'data-state': up ? 'online' : 'offline' }, up ? 'online' : 'offline')),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Pool'), h('dd', {}, pool ? h('a', { href: `#/pool/${encodeURIComponent(pool)}` }, pool) : '—'),
        h('dt', {}, 'Last seen'), h('dd', {}, ago(lastSeen(node, lease))),
        h('dt', {}, 'Version'), h('dd', {}, info.kubeletVersion ?? ''),
        h('dt', {}, 'OS / arch'), h('dd', {}, `${info.osImage ?? info.operatingSystem ?? node.metadata.labels?.['kubernetes.io/os'] ?? ''} / ${archOf(node)}`),
        h('dt', {}, 'Addresses'), h('dd', {}, (node.status?.addresses ?? []).map((a: { address: string }) => a.address).join(', ')),
        h('dt', {}, 'Link, last hour'), h('dd', {}, link ? bytes(link.bytesLastHour) : '–')),
      h('h2', {}, 'Conditions'),
      table('Conditions', ['Type', 'Status', 'Since', 'Reason', 'Message'],
        (node.status?.conditions ?? []).map((c: Record<string, string>) => [c.type ?? '', c.status ?? '', ago(c.lastTransitionTime), c.reason ?? '', c.message ?? '']), 'No conditions reported.'),
      h('h2', {}, 'Pods'),
      table('Pods on this node', ['Namespace', 'Name', 'Phase', 'Restarts', 'Age'],
        [...pods.items.values()].map((p) => [p.metadata.namespace ?? '', p.metadata.name, p.status?.phase ?? '',
          String((p.status?.containerStatuses ?? []).reduce((s: number, c: { restartCount?: number }) => s + (c.restartCount ?? 0), 0)), ago(p.metadata.creationTimestamp)]),
        pods.error ? `Cannot read pods: ${pods.error}` : 'No pods.'),
      h('h2', {}, 'Events'),
      table('Events of this node', ['Type', 'Reason', 'Message', 'Last'],
        [...events.items.values()].sort((a, b) => String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(String(a.lastTimestamp ?? a.eventTime ?? '')))
          .map((e) => [e.type ?? '', e.reason ?? '', e.message ?? '', ago(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp)]),
        events.error ? `Cannot read events: ${events.error}` : 'No events.'),
      h('h2', {}, 'Link history'),
      !link ? h('p', { class: 'muted', id: 'link-history' }, 'Its agent has not linked to this server since the server started.') : h('div', { id: 'link-history' },
        h('p', {}, `Last heard on its link ${ago(new Date(link.lastSeenMs).toISOString())}. ${link.connects} connect${link.connects === 1 ? '' : 's'}, ${link.disconnects} disconnect${link.disconnects === 1 ? '' : 's'} since the server started.`),
        table('Link connects and disconnects, newest first', ['When', 'Event', 'Detail'],
          link.events.slice().reverse().map((e) => [new Date(e.at).toLocaleString(), e.event, e.event === 'disconnected' ? `${e.code ?? ''}${e.reason ? ` ${e.reason}` : ''}`.trim() : '']),
          'No connects recorded.'),
        table('Link bytes per hour', ['Hour', 'Received', 'Sent'], link.hours.slice().reverse().map((x) => [new Date(x.start).toLocaleString(), bytes(x.bytesIn), bytes(x.bytesOut)]), 'No traffic yet.')));
  };
  const nodes = new LiveList<KObject>(api, `/api/v1/nodes?fieldSelector=metadata.name%3D${sel}`, draw).start();
  const leases = new LiveList<KObject>(api, `${LEASES_PATH}?fieldSelector=metadata.name%3D${sel}`, draw).start();
  const pods = new LiveList<KObject>(api, `/api/v1/pods?fieldSelector=spec.nodeName%3D${sel}`, draw).start();
  const events = new LiveList<KObject>(api, `/api/v1/events?fieldSelector=involvedObject.kind%3DNode%2CinvolvedObject.name%3D${sel}`, draw).start();
  const stopLinks = followLinks(api, name, (l) => {
    link = l[name];
    draw();
  });
  const tick = setInterval(draw, 10_000);
  return () => {
    for (const l of [nodes, leases, pods, events]) l.stop();
    stopLinks();
    clearInterval(tick);
  };
};
