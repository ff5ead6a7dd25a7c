import { describe, expect, it } from 'vitest';
import { computeTemplateHash, fnv32a, safeEncode } from '../../../../src/server/controllers/workloads/pod-template-hash.ts';
import { equalIgnoreHash, findNewReplicaSet, maxRevision, newReplicaSetAnnotations, replicaSetsToPrune } from '../../../../src/server/controllers/workloads/revisions.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';

const template = (image: string, labels: Record<string, string> = { app: 'web' }) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image }] } });

function rs(name: string, o: { revision?: number; replicas?: number; statusReplicas?: number; image?: string; created?: string; generation?: number; observed?: number } = {}): KubeObject {
  return {
    metadata: {
      name,
      creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
      generation: o.generation ?? 1,
      ...(o.revision ? { annotations: { 'deployment.kubernetes.io/revision': String(o.revision) } } : {}),
    },
    spec: { replicas: o.replicas ?? 0, template: template(o.image ?? 'a', { app: 'web', 'pod-template-hash': name }) },
    status: { replicas: o.statusReplicas ?? 0, observedGeneration: o.observed ?? 1 },
  };
}

describe('pod-template-hash', () => {
  it('FNV-1a 32 matches the reference vectors', () => {
    expect(fnv32a('')).toBe(0x811c9dc5);
    expect(fnv32a('a')).toBe(0xe40c292c);
    expect(fnv32a('foobar')).toBe(0xbf9cf968);
  });

  it('SafeEncodeString maps digits into the vowel-free alphabet', () => {
    expect(safeEncode('0123456789')).toBe('bcdfghjklm'.split('').map((_, i) => 'bcdfghjklmnpqrstvwxz2456789'[(48 + i) % 27]).join(''));
  });

  it('is stable across key order and null fields, and changes with the template or collision count', () => {
    const a = computeTemplateHash({ metadata: { labels: { app: 'web' } }, spec: { b: 1, a: 2 } });
    const b = computeTemplateHash({ spec: { a: 2, b: 1 }, metadata: { creationTimestamp: null, labels: { app: 'web' } } });
    expect(a).toBe(b);
    expect(computeTemplateHash(template('x'))).not.toBe(computeTemplateHash(template('y')));
    expect(computeTemplateHash(template('x'), 1)).not.toBe(computeTemplateHash(template('x')));
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
});

describe('revisions', () => {
  it('equalIgnoreHash ignores only the pod-template-hash label', () => {
    expect(equalIgnoreHash(template('a', { app: 'web', 'pod-template-hash': 'x' }), template('a'))).toBe(true);
    expect(equalIgnoreHash(template('a', { app: 'web', tier: 'x' }), template('a'))).toBe(false);
    expect(equalIgnoreHash(template('b'), template('a'))).toBe(false);
  });

  it('findNewReplicaSet picks the oldest matching one', () => {
    const d: KubeObject = { metadata: { name: 'web' }, spec: { template: template('a') } };
    const sets = [rs('n2', { image: 'a', created: '2026-01-02T00:00:00Z' }), rs('n1', { image: 'a' }), rs('o', { image: 'b' })];
    expect(findNewReplicaSet(d, sets)?.metadata.name).toBe('n1');
    expect(maxRevision([rs('a', { revision: 3 }), rs('b', { revision: 7 }), rs('c')])).toBe(7);
  });

  it('newReplicaSetAnnotations raises the revision, records history and copies deployment annotations', () => {
    const d: KubeObject = { metadata: { name: 'web', annotations: { 'kubernetes.io/change-cause': 'v2', 'deployment.kubernetes.io/revision': '9', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } } };
    expect(newReplicaSetAnnotations(d, rs('x', { revision: 1 }), 4, { created: false, desired: 3, maxReplicas: 4 })).toEqual({
      'deployment.kubernetes.io/revision': '4',
      'deployment.kubernetes.io/revision-history': '1',
      'kubernetes.io/change-cause': 'v2',
    });
    expect(newReplicaSetAnnotations(d, rs('x', { revision: 4 }), 4, { created: false, desired: 3, maxReplicas: 4 })).toEqual({
      'deployment.kubernetes.io/revision': '4',
      'kubernetes.io/change-cause': 'v2',
    });
    const fresh = newReplicaSetAnnotations({ metadata: {} }, { metadata: {} }, 1, { created: true, desired: 3, maxReplicas: 4 });
    expect(fresh).toEqual({ 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    const same = { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } };
    expect(newReplicaSetAnnotations({ metadata: {} }, same, 2, { created: false, desired: 1, maxReplicas: 1 })).toBeUndefined();
  });

  it('replicaSetsToPrune keeps the limit and never prunes a set with replicas or unobserved changes', () => {
    const olds = [rs('r1', { revision: 1 }), rs('r2', { revision: 2, replicas: 1 }), rs('r3', { revision: 3, generation: 2, observed: 1 }), rs('r4', { revision: 4 }), rs('r5', { revision: 5 })];
    expect(replicaSetsToPrune(olds, 1).map((x) => x.metadata.name)).toEqual(['r1', 'r4']);
    expect(replicaSetsToPrune(olds, 5)).toEqual([]);
    expect(replicaSetsToPrune(olds, 0).map((x) => x.metadata.name)).toEqual(['r1', 'r4', 'r5']);
  });
});
