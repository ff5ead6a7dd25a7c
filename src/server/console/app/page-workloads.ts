// Workloads by pool: every PoolSet with its per-pool status (apps.edgeos.io/v1, docs/pools.md).
import type { KObject } from './api.ts';
import { h, replace } from './dom.ts';
import { LiveList } from './live-list.ts';
import type { Page } from './page.ts';

export const workloadsPage: Page = ({ api, main }) => {
  const out = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  replace(main, h('h1', {}, 'Workloads'), out);
  const draw = () => {
    if (sets.error) return replace(out, h('p', { class: 'error' }, `Cannot read PoolSets: ${sets.error}`));
    const all = [...sets.items.values()].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    if (all.length === 0) return replace(out, h('p', { class: 'muted' }, sets.complete ? 'No PoolSets.' : 'Loading…'));
    replace(out, all.map((s) => {
      const st = s.status ?? {};
      const ready = (st.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      return h('section', { class: 'card', 'aria-label': `PoolSet ${s.metadata.namespace}/${s.metadata.name}` },
        h('h2', {}, `${s.metadata.namespace}/${s.metadata.name}`, ' ', h('span', { class: `badge ${ready?.status === 'True' ? 'online' : 'offline'}` }, ready?.status === 'True' ? 'Ready' : (ready?.reason ?? 'NotReady'))),
        h('p', { class: 'muted' }, `${st.readyWorkloads ?? 0}/${st.totalWorkloads ?? 0} pools ready, ${st.updatedWorkloads ?? 0} updated`),
        h('div', { class: 'scroll' }, h('table', {}, h('caption', {}, 'Per pool'),
          h('thead', {}, h('tr', {}, ['Pool', 'Workload', 'Ready', 'Updated', 'Rolled out'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, (st.pools ?? []).map((p: Record<string, unknown>) => h('tr', {},
            h('td', {}, h('a', { href: `#/pool/${encodeURIComponent(String(p.pool ?? p.name ?? ''))}` }, String(p.pool ?? p.name ?? ''))),
            h('td', {}, String(p.workload ?? '')),
            h('td', {}, `${p.readyReplicas ?? 0}/${p.replicas ?? 0}`),
            h('td', {}, String(p.updatedReplicas ?? 0)),
            h('td', {}, p.rolledOut ? 'yes' : 'no')))))));
    }));
  };
  const sets = new LiveList<KObject>(api, '/apis/apps.edgeos.io/v1/poolsets', draw).start();
  return () => sets.stop();
};
