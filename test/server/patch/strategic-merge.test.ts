import { describe, expect, it } from 'vitest';
import { applyPatch, PatchError } from '../../../src/server/patch/index.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { fixture, fixtureJson } from '../../fixtures/kubectl-bodies/load.ts';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
const pod = { group: '', version: 'v1', kind: 'Pod' };
const service = { group: '', version: 'v1', kind: 'Service' };
const node = { group: '', version: 'v1', kind: 'Node' };

function smp(current: KubeObject, patch: unknown, gvk = pod): KubeObject {
  return applyPatch('strategic', current, Buffer.from(JSON.stringify(patch)), gvk);
}

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

describe('strategic merge patch on what kubectl sent', () => {
  // The stored object is what kubectl apply created (its POST body); the patches are what the next
  // `kubectl apply` / `kubectl edit` / `kubectl rollout restart` sent for it.
  const created = fixtureJson<KubeObject>('apply-create.json');
  const annotation = (o: KubeObject): string | undefined => (o.metadata?.annotations as Record<string, string> | undefined)?.[lastApplied];
  const specOf = (name: string): unknown => (JSON.parse(annotation(fixtureJson<KubeObject>(name)) ?? '{}') as KubeObject).spec;

  it('apply with a changed image, replicas and env reaches the new configuration', () => {
    const out = applyPatch('strategic', created, fixture('apply-update.json'), deployment);
    expect(out.spec).toEqual(specOf('apply-update.json'));
    expect(annotation(out)).toBe(annotation(fixtureJson<KubeObject>('apply-update.json')));
    expect(out.metadata?.labels).toEqual({ app: 'web' });
  });

  it('apply that drops a container and an env var removes them ($patch: delete, $setElementOrder)', () => {
    const out = applyPatch('strategic', created, fixture('apply-remove.json'), deployment);
    expect(out.spec).toEqual(specOf('apply-remove.json'));
  });

  it('edit changes image and replicas and keeps the rest', () => {
    const out = applyPatch('strategic', created, fixture('edit.json'), deployment);
    const spec = out.spec as { replicas: number; template: { spec: { containers: { name: string; image: string; env?: unknown }[] } } };
    expect(spec.replicas).toBe(4);
    expect(spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([['web', 'nginx:1.27'], ['log', 'busybox:1.36']]);
    expect(spec.template.spec.containers[0]?.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  });

  it('rollout restart adds the restartedAt template annotation', () => {
    const out = applyPatch('strategic', created, fixture('rollout-restart.json'), deployment);
    const template = (out.spec as { template: { metadata: { annotations: Record<string, string>; labels: unknown } } }).template;
    expect(Object.keys(template.metadata.annotations)).toEqual(['kubectl.kubernetes.io/restartedAt']);
    expect(template.metadata.labels).toEqual({ app: 'web' });
  });

  it('drain cordons the node; uncordon (null) removes the field', () => {
    const n: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' }, spec: { podCIDR: '10.0.0.0/24' } };
    const cordoned = applyPatch('strategic', n, fixture('drain.1.json'), node);
    expect(cordoned.spec).toEqual({ podCIDR: '10.0.0.0/24', unschedulable: true });
    expect(smp(cordoned, { spec: { unschedulable: null } }, node).spec).toEqual({ podCIDR: '10.0.0.0/24' });
  });
});

const base: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
  spec: {
    containers: [
      { name: 'web', image: 'nginx', args: ['a', 'b'], ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }] },
      { name: 'side', image: 'busybox' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    tolerations: [{ key: 'k', operator: 'Exists' }],
    nodeSelector: { disk: 'ssd' },
  },
};

const spec = (o: KubeObject) => o.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };

describe('strategic merge patch directives', () => {
  const cases: [string, unknown, (out: KubeObject) => void][] = [
    ['merges containers by name, keeping the others in place',
      { spec: { containers: [{ name: 'side', image: 'busybox:2' }] } },
      (o) => expect(spec(o).containers.map((c) => `${String(c.name)}=${String(c.image)}`)).toEqual(['web=nginx', 'side=busybox:2'])],
    ['appends a new container',
      { spec: { containers: [{ name: 'new', image: 'x' }] } },
      // New items go before the server's (mergeSortedSlice ranks them at position -1).
      (o) => expect(spec(o).containers.map((c) => c.name)).toEqual(['new', 'web', 'side'])],
    ['$patch: delete removes a list item by merge key',
      { spec: { containers: [{ name: 'side', $patch: 'delete' }] } },
      (o) => expect(spec(o).containers.map((c) => c.name)).toEqual(['web'])],
    ['$patch: replace in a list replaces it with the other items',
      { spec: { containers: [{ name: 'only', image: 'i' }, { $patch: 'replace' }] } },
      (o) => expect(spec(o).containers).toEqual([{ name: 'only', image: 'i' }])],
    ['$patch: replace in a map replaces the map',
      { metadata: { labels: { c: '3', $patch: 'replace' } } },
      (o) => expect(o.metadata?.labels).toEqual({ c: '3' })],
    ['$patch: delete in a map empties it',
      { spec: { nodeSelector: { $patch: 'delete' } } },
      (o) => expect(spec(o).nodeSelector).toEqual({})],
    ['null deletes a field and a map key',
      { metadata: { labels: { a: null } }, spec: { tolerations: null } },
      (o) => {
        expect(o.metadata?.labels).toEqual({ b: '2' });
        expect(spec(o)).not.toHaveProperty('tolerations');
      }],
    ['lists without a merge strategy (args, tolerations) are replaced',
      { spec: { containers: [{ name: 'web', args: ['z'] }], tolerations: [{ key: 'other', operator: 'Exists' }] } },
      (o) => {
        expect(spec(o).containers[0]?.args).toEqual(['z']);
        expect(spec(o).tolerations).toEqual([{ key: 'other', operator: 'Exists' }]);
      }],
    ['ports merge by containerPort',
      { spec: { containers: [{ name: 'web', ports: [{ containerPort: 443, name: 'https' }, { containerPort: 8080 }] }] } },
      (o) => expect(spec(o).containers[0]?.ports).toEqual([{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'https' }, { containerPort: 8080 }])],
    ['finalizers merge as a set',
      { metadata: { finalizers: ['y', 'z'] } },
      (o) => expect(o.metadata?.finalizers).toEqual(['x', 'y', 'z'])],
    ['$deleteFromPrimitiveList removes values from a primitive list',
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
      (o) => expect(o.metadata?.finalizers).toEqual(['y'])],
    ['$setElementOrder orders patched items and keeps server-only items in their relative place',
      { spec: { containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'C' }, { name: 'A' }], env: [{ name: 'C', value: '30' }] }] } },
      (o) => expect(spec(o).containers[0]?.env).toEqual([{ name: 'B', value: '2' }, { name: 'C', value: '30' }, { name: 'A', value: '1' }])],
    ['$setElementOrder alone reorders a list',
      { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }] } },
      (o) => expect(spec(o).containers.map((c) => c.name)).toEqual(['side', 'web'])],
    ['$retainKeys drops the fields a list item no longer names (volume source switch)',
      { spec: { volumes: [{ name: 'data', configMap: { name: 'cm' }, $retainKeys: ['configMap', 'name'] }] } },
      (o) => expect(spec(o).volumes).toEqual([{ name: 'data', configMap: { name: 'cm' } }])],
    ['a new list drops $patch: delete items and directives',
      { spec: { initContainers: [{ name: 'i', image: 'x', '$setElementOrder/env': [] }, { name: 'gone', $patch: 'delete' }] } },
      (o) => expect(spec(o).initContainers).toEqual([{ name: 'i', image: 'x' }])],
  ];

  it.each(cases)('%s', (_name, patch, check) => {
    const before = structuredClone(base);
    check(smp(base, patch));
    expect(base).toEqual(before);
  });

  it('$retainKeys on a struct with retainKeys strategy (deployment strategy Recreate)', () => {
    const d: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const out = smp(d, { spec: { strategy: { type: 'Recreate', rollingUpdate: null, $retainKeys: ['type'] } } }, deployment);
    expect(out.spec).toEqual({ strategy: { type: 'Recreate' } });
  });

  it('merges Service ports by port', () => {
    const s: KubeObject = { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = smp(s, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, service);
    expect(out.spec).toEqual({ ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] });
  });

  it.each([
    ['an unknown $patch value', { spec: { nodeSelector: { $patch: 'explode' } } }, 400],
    ['a list item without its merge key', { spec: { containers: [{ image: 'x' }] } }, 400],
    ['$retainKeys that is not a list', { spec: { volumes: [{ name: 'data', $retainKeys: 'x' }] } }, 400],
    ['patch fields outside $retainKeys', { spec: { volumes: [{ name: 'data', secret: {}, $retainKeys: ['name'] }] } }, 422],
    ['$setElementOrder that is not a list', { spec: { '$setElementOrder/containers': {} } }, 400],
  ])('rejects %s', (_name, patch, status) => {
    let err: unknown;
    try {
      smp(base, patch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).status).toBe(status);
  });
});
