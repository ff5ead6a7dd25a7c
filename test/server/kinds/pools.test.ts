// apps.edgeos.io/v1 NodePool and PoolSet: defaults, validation (tweaks tried on the template, a
// patch that does not apply named), the rendering of one pool's workload, and the table cells.
import { describe, expect, it } from 'vitest';
import { renderPoolWorkload } from '../../../src/server/kinds/pool-set-render.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { admit, ago, defaulted, row } from './helpers.ts';

const G = 'apps.edgeos.io';

function nodePool(spec: Record<string, unknown>, name = 'shop-1'): KubeObject {
  return { apiVersion: `${G}/v1`, kind: 'NodePool', metadata: { name, creationTimestamp: ago(60) }, spec };
}

function poolSet(spec: Record<string, unknown>, tweaks: unknown[] = []): KubeObject {
  return {
    apiVersion: `${G}/v1`,
    kind: 'PoolSet',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(60) },
    spec: {
      pools: ['shop-1', 'shop-2'],
      workload: {
        workloadTemplate: {
          deploymentTemplate: {
            metadata: { labels: { app: 'web' } },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: 'web' } },
              template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1', env: [{ name: 'A', value: '1' }] }] } },
            },
          },
        },
        workloadTweaks: tweaks,
      },
      ...spec,
    },
  };
}

describe('NodePool', () => {
  it('defaults to an Edge pool and validates labels, taints and its name as a label value', () => {
    expect((defaulted(G, 'NodePool', nodePool({})).spec as Record<string, unknown>).type).toBe('Edge');
    expect(admit(G, 'NodePool', nodePool({ labels: { site: 'a' }, taints: [{ key: 'site', value: 'a', effect: 'NoSchedule' }] }))).toEqual([]);
    expect(admit(G, 'NodePool', nodePool({ type: 'Fog' }))).toEqual(['spec.type: Unsupported value: "Fog": supported values: "Cloud", "Edge"']);
    expect(admit(G, 'NodePool', nodePool({ labels: { 'apps.edgeos.io/pool': 'x' } }))).toEqual([
      "spec.labels[apps.edgeos.io/pool]: Forbidden: pool membership is the node's own label: set it on the node (edgeos join --pool, kubectl label node)",
    ]);
    expect(admit(G, 'NodePool', nodePool({ taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', value: 'b', effect: 'NoSchedule' }, { key: 'b', effect: 'Sometimes' }] }))).toEqual([
      'spec.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
      'spec.taints[1]: Duplicate value: "a:NoSchedule"',
    ]);
    expect(admit(G, 'NodePool', nodePool({}, 'shop.one'))[0]).toBe('metadata.name: Invalid value: "shop.one": must not contain dots');
  });

  it('prints TYPE, READYNODES, NOTREADYNODES and the members when wide', () => {
    const np = { ...nodePool({ type: 'Cloud' }), status: { readyNodeNum: 2, unreadyNodeNum: 1, nodes: ['a', 'b', 'c'] } };
    expect(row(G, 'NodePool', np)).toEqual(['shop-1', 'Cloud', 2, 1, '60s', 'a,b,c']);
  });
});

describe('PoolSet', () => {
  it('stores the template defaulted as the Deployment it becomes, and its own defaults', () => {
    const ps = defaulted(G, 'PoolSet', poolSet({}));
    const spec = ps.spec as { maxConcurrentPools: number; progressDeadlineSeconds: number; workload: { workloadTemplate: { deploymentTemplate: { spec: Record<string, unknown> } } } };
    expect(spec.maxConcurrentPools).toBe(1);
    expect(spec.progressDeadlineSeconds).toBe(600);
    expect(spec.workload.workloadTemplate.deploymentTemplate.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  });

  it('validates the template as a Deployment, under its own path', () => {
    const ps = poolSet({});
    (ps.spec as { workload: { workloadTemplate: { deploymentTemplate: { spec: { replicas: number } } } } }).workload.workloadTemplate.deploymentTemplate.spec.replicas = -1;
    expect(admit(G, 'PoolSet', ps)).toEqual(['spec.workload.workloadTemplate.deploymentTemplate.spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  });

  it('needs exactly one template and some pools, and checks the rollout settings', () => {
    const none = poolSet({ pools: [], workload: { workloadTemplate: {} }, maxConcurrentPools: 0, canaryPools: ['Shop'] });
    expect(admit(G, 'PoolSet', none)).toEqual([
      'spec.workload.workloadTemplate: Required value: one of deploymentTemplate and statefulSetTemplate',
      'spec.pools: Required value: pools or nodepoolSelector',
      'spec.canaryPools[0]: Invalid value: "Shop": a node pool name must be a DNS-1123 label (at most 63 of [a-z0-9-], starting and ending alphanumeric)',
      'spec.maxConcurrentPools: Invalid value: 0: must be greater than or equal to 1',
    ]);
  });

  it('refuses a tweak patch that does not apply, naming it, and a tweak that breaks the workload', () => {
    const bad = poolSet({}, [{ pools: ['shop-2'], tweaks: { patches: [{ op: 'add', path: '/spec/minReadySeconds', value: 5 }, { op: 'replace', path: '/spec/template/spec/containers/3/image', value: 'x' }] } }]);
    expect(admit(G, 'PoolSet', bad)).toEqual([
      'spec.workload.workloadTweaks[0].tweaks.patches[1]: Invalid value: map[string]string{"op":"replace", "path":"/spec/template/spec/containers/3/image", "value":"x"}: does not apply to the template: the path does not exist in the workload',
    ]);
    const image = poolSet({}, [{ pools: ['shop-2'], tweaks: { containerImages: [{ name: 'nope', targetImage: 'x' }] } }]);
    expect(admit(G, 'PoolSet', image)).toEqual(['spec.workload.workloadTweaks[0].tweaks.containerImages[0].name: Invalid value: "nope": does not apply to the template: no container or init container of that name in the template']);
    const breaks = poolSet({}, [{ nodepoolSelector: { matchLabels: { tier: 'small' } }, tweaks: { patches: [{ op: 'replace', path: '/spec/replicas', value: -3 }] } }]);
    expect(admit(G, 'PoolSet', breaks)).toEqual(['spec.workload.workloadTweaks[0].tweaks: Invalid value: "": makes the Deployment invalid: spec.replicas: Invalid value: -3: must be greater than or equal to 0']);
    const aimless = poolSet({}, [{ tweaks: { replicas: 1 } }]);
    expect(admit(G, 'PoolSet', aimless)).toEqual(['spec.workload.workloadTweaks[0].pools: Required value: pools or nodepoolSelector']);
  });

  it('refuses a change of workload kind and of the template selector', () => {
    const old = poolSet({});
    admit(G, 'PoolSet', old);
    const sts = poolSet({ workload: { workloadTemplate: { statefulSetTemplate: { spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x' }] } } } } } } });
    expect(admit(G, 'PoolSet', sts, old)).toContain('spec.workload.workloadTemplate: Forbidden: the workload kind cannot change from Deployment to StatefulSet: create another PoolSet');
    const moved = poolSet({});
    const t = (moved.spec as { workload: { workloadTemplate: { deploymentTemplate: { spec: { selector: unknown; template: { metadata: { labels: unknown } } } } } } }).workload.workloadTemplate.deploymentTemplate.spec;
    t.selector = { matchLabels: { app: 'other' } };
    t.template.metadata.labels = { app: 'other' };
    expect(admit(G, 'PoolSet', moved, old)).toEqual(['spec.workload.workloadTemplate.deploymentTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']);
  });

  it('renders a pool: tweaks in order, then pinned to the pool', () => {
    const ps = poolSet({}, [
      { pools: ['shop-2'], tweaks: { replicas: 3, containerImages: [{ name: 'web', targetImage: 'nginx:2' }], env: [{ name: 'A', value: '2' }, { name: 'SITE', value: 'shop-2' }] } },
      { nodepoolSelector: { matchLabels: { tier: 'big' } }, tweaks: { replicas: 5, patches: [{ op: 'add', path: '/spec/minReadySeconds', value: 7 }] } },
    ]);
    admit(G, 'PoolSet', ps);
    const r = renderPoolWorkload(ps, { name: 'shop-2', labels: { tier: 'big' } });
    if (!r || 'failure' in r) throw new Error('no workload');
    const w = r.object as { metadata: Record<string, unknown>; spec: { replicas: number; minReadySeconds: number; selector: unknown; template: { metadata: { labels: unknown }; spec: { nodeSelector: unknown; containers: { image: string; env: unknown }[] } } } };
    expect(r.kind).toBe('Deployment');
    expect(w.metadata).toMatchObject({ name: 'web-shop-2', namespace: 'default', labels: { app: 'web', 'apps.edgeos.io/poolset': 'web', 'apps.edgeos.io/pool': 'shop-2' } });
    expect(w.spec.replicas).toBe(5);
    expect(w.spec.minReadySeconds).toBe(7);
    expect(w.spec.selector).toEqual({ matchLabels: { app: 'web', 'apps.edgeos.io/pool': 'shop-2' } });
    expect(w.spec.template.metadata.labels).toEqual({ app: 'web', 'apps.edgeos.io/pool': 'shop-2' });
    expect(w.spec.template.spec.nodeSelector).toEqual({ 'apps.edgeos.io/pool': 'shop-2' });
    expect(w.spec.template.spec.containers[0]?.image).toBe('nginx:2');
    expect(w.spec.template.spec.containers[0]?.env).toEqual([{ name: 'A', value: '2' }, { name: 'SITE', value: 'shop-2' }]);
    const plain = renderPoolWorkload(ps, { name: 'shop-1', labels: {} });
    if (!plain || 'failure' in plain) throw new Error('no workload');
    expect((plain.object.spec as { replicas: number }).replicas).toBe(2);
  });

  it('prints READY, UPDATED and a one-word STATUS', () => {
    const base = poolSet({});
    expect(row(G, 'PoolSet', base)).toEqual(['web', '0/0', '0/0', 'Pending', '60s', 'Deployment', '<none>']);
    const halted = {
      ...base,
      status: {
        totalWorkloads: 2,
        readyWorkloads: 1,
        updatedWorkloads: 1,
        pools: [{ name: 'shop-1' }, { name: 'shop-2' }],
        conditions: [{ type: 'Ready', status: 'False' }, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      },
    };
    expect(row(G, 'PoolSet', halted)).toEqual(['web', '1/2', '1/2', 'Halted', '60s', 'Deployment', 'shop-1,shop-2']);
  });
});
