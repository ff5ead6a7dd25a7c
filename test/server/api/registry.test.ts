import { describe, expect, it } from 'vitest';
import { ResourceRegistry, builtinResources, listPrefix, objectKey, resourcesFromCrd } from '../../../src/server/registry/index.ts';

describe('resource registry', () => {
  const reg = new ResourceRegistry();

  it('serves every built-in resource exactly once per group/version/plural', () => {
    const ids = builtinResources().map((r) => `${r.group}/${r.version}/${r.plural}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lays out keys by scope, qualifying plurals outside core and apps', () => {
    const pods = reg.resolve('', 'v1', 'pods');
    const deploy = reg.resolve('apps', 'v1', 'deployments');
    const leases = reg.resolve('coordination.k8s.io', 'v1', 'leases');
    const nodes = reg.resolve('', 'v1', 'nodes');
    if (!pods || !deploy || !leases || !nodes) throw new Error('missing built-ins');
    expect(objectKey(pods, 'default', 'web')).toBe('/registry/pods/default/web');
    expect(objectKey(deploy, 'default', 'web')).toBe('/registry/deployments/default/web');
    expect(objectKey(leases, 'kube-node-lease', 'n1')).toBe('/registry/leases.coordination.k8s.io/kube-node-lease/n1');
    expect(objectKey(nodes, '', 'n1')).toBe('/registry/nodes/n1');
    expect(listPrefix(pods, '')).toBe('/registry/pods/');
    expect(listPrefix(pods, 'kube-system')).toBe('/registry/pods/kube-system/');
  });

  it('stores both Event APIs in one place', () => {
    expect(reg.resolve('events.k8s.io', 'v1', 'events')?.storage).toBe(reg.resolve('', 'v1', 'events')?.storage);
  });

  it('keeps the groups kubectl resolves ambiguous names with in discovery order', () => {
    const groups = reg.groups().map((g) => g.name);
    expect(groups.indexOf('apps')).toBeLessThan(groups.indexOf('metrics.k8s.io'));
  });

  it('derives served resources from a CRD and drops them when it goes', () => {
    const crd = {
      metadata: { name: 'things.example.com' },
      spec: {
        group: 'example.com', scope: 'Cluster',
        names: { plural: 'things', singular: 'thing', kind: 'Thing', shortNames: ['th'], categories: ['all'] },
        versions: [
          { name: 'v1', served: true, storage: true, subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } },
          { name: 'v1beta1', served: false, storage: false },
        ],
      },
    };
    const rs = resourcesFromCrd(crd);
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({
      group: 'example.com', version: 'v1', kind: 'Thing', listKind: 'ThingList', namespaced: false, shortNames: ['th'], categories: ['all'],
      storage: 'things.example.com', custom: true, scalePaths: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
    });
    expect(rs[0]?.subresources.map((s) => s.name)).toEqual(['status', 'scale']);
    const own = new ResourceRegistry();
    own.setCustom('things.example.com', rs);
    expect(own.resolve('example.com', 'v1', 'things')?.kind).toBe('Thing');
    own.setCustom('things.example.com', []);
    expect(own.resolve('example.com', 'v1', 'things')).toBeUndefined();
    expect(resourcesFromCrd({ ...crd, metadata: { ...crd.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } })).toEqual([]);
  });
});
