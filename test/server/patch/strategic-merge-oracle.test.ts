// Differential test: the same patches through our engines and through the real kubectl's
// compiled-in k8s.io/apimachinery code (`kubectl patch --local`, no server involved), which applies
// strategic merge with the options the apiserver uses (MergeParallelList, IgnoreUnmatchedNulls).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyPatch, PatchError } from '../../../src/server/patch/index.ts';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { fixture, fixtureJson } from '../../fixtures/kubectl-bodies/load.ts';

const kubectl = process.env.EDGEOS_TEST_KUBECTL ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
const work = mkdtempSync(join(tmpdir(), 'edgeos-smp-oracle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Outcome = { ok: true; object: unknown } | { ok: false };

function viaKubectl(obj: KubeObject, type: 'strategic' | 'merge' | 'json', patch: string): Outcome {
  const file = join(work, 'obj.json');
  writeFileSync(file, JSON.stringify(obj));
  try {
    const out = execFileSync(kubectl, ['patch', '--local', '-f', file, '--type', type, '-p', patch, '-o', 'json', '--kubeconfig', '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, object: JSON.parse(out.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function viaEdgeos(obj: KubeObject, type: 'strategic' | 'merge' | 'json', patch: string): Outcome {
  const [group, version] = (obj.apiVersion ?? '').includes('/') ? (obj.apiVersion ?? '').split('/') : ['', obj.apiVersion];
  try {
    return { ok: true, object: applyPatch(type, obj, Buffer.from(patch), { group: group ?? '', version: version ?? '', kind: obj.kind ?? '' }) };
  } catch (err) {
    if (err instanceof PatchError) return { ok: false };
    throw err;
  }
}

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'p',
    labels: { a: '1', b: '2' },
    finalizers: ['x', 'y'],
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }],
  },
  spec: {
    containers: [
      {
        name: 'web', image: 'nginx', args: ['a', 'b'],
        ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }],
        env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }, { name: 'D', value: '4' }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        resources: { limits: { cpu: '1' } },
      },
      { name: 'side', image: 'busybox' },
      { name: 'third', image: 'alpine' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }],
    tolerations: [{ key: 'k', operator: 'Exists' }],
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
    imagePullSecrets: [{ name: 's1' }],
    nodeSelector: { disk: 'ssd' },
  },
  status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }], phase: 'Pending' },
};

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'd' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
};

const service: KubeObject = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 's' },
  spec: { selector: { app: 's' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'https', port: 443, protocol: 'TCP' }] },
};

const strategicCases: [string, KubeObject, unknown][] = [
  ['update one container', pod, { spec: { containers: [{ name: 'side', image: 'busybox:2' }] } }],
  ['add a container', pod, { spec: { containers: [{ name: 'new', image: 'x' }] } }],
  ['add a container in the middle with $setElementOrder', pod, { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'new' }, { name: 'side' }, { name: 'third' }], containers: [{ name: 'new', image: 'x' }] } }],
  ['delete a container', pod, { spec: { containers: [{ name: 'side', $patch: 'delete' }] } }],
  ['delete a missing container', pod, { spec: { containers: [{ name: 'nope', $patch: 'delete' }] } }],
  ['replace the container list', pod, { spec: { containers: [{ name: 'only', image: 'i' }, { $patch: 'replace' }] } }],
  ['replace a map', pod, { metadata: { labels: { c: '3', $patch: 'replace' } } }],
  ['delete a map', pod, { spec: { nodeSelector: { $patch: 'delete' } } }],
  ['nulls delete', pod, { metadata: { labels: { a: null } }, spec: { tolerations: null, hostAliases: null } }],
  ['nulls inside new values are dropped', pod, { spec: { affinity: { nodeAffinity: null, podAffinity: { x: null } } } }],
  ['atomic lists are replaced', pod, { spec: { containers: [{ name: 'web', args: ['z'] }], tolerations: [{ key: 'o', operator: 'Exists' }] } }],
  ['ports merge by containerPort', pod, { spec: { containers: [{ name: 'web', ports: [{ containerPort: 443, name: 'https' }, { containerPort: 8080 }] }] } }],
  ['env reorder with server-only items', pod, { spec: { containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'D' }, { name: 'B' }], env: [{ name: 'D', value: '40' }] }] } }],
  ['env new items without order', pod, { spec: { containers: [{ name: 'web', env: [{ name: 'Z', value: 'z' }, { name: 'A', value: '10' }] }] } }],
  ['$setElementOrder alone', pod, { spec: { '$setElementOrder/containers': [{ name: 'third' }, { name: 'web' }, { name: 'side' }] } }],
  ['finalizers merge as a set', pod, { metadata: { finalizers: ['y', 'z'] } }],
  ['finalizers with order', pod, { metadata: { '$setElementOrder/finalizers': ['z', 'x'], finalizers: ['z'] } }],
  ['$deleteFromPrimitiveList', pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } }],
  ['ownerReferences merge by uid', pod, { metadata: { ownerReferences: [{ uid: 'u1', blockOwnerDeletion: true }, { apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u2' }] } }],
  ['volumes with $retainKeys', pod, { spec: { volumes: [{ name: 'data', configMap: { name: 'cm' }, $retainKeys: ['configMap', 'name'] }] } }],
  ['volumeMounts by mountPath', pod, { spec: { containers: [{ name: 'web', volumeMounts: [{ mountPath: '/data', readOnly: true }, { name: 'cfg', mountPath: '/cfg' }] }] } }],
  ['conditions by type', pod, { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } }],
  ['hostAliases by ip', pod, { spec: { hostAliases: [{ ip: '10.0.0.1', hostnames: ['b'] }, { ip: '10.0.0.2', hostnames: ['c'] }] } }],
  ['imagePullSecrets by name', pod, { spec: { imagePullSecrets: [{ name: 's2' }] } }],
  ['nested map merge in a container', pod, { spec: { containers: [{ name: 'web', resources: { limits: { memory: '1Gi' }, requests: { cpu: '100m' } } }] } }],
  ['type change map to list', pod, { spec: { nodeSelector: ['x'] } }],
  ['new list with directives', pod, { spec: { initContainers: [{ name: 'i', image: 'x' }, { name: 'gone', $patch: 'delete' }] } }],
  ['strategy switch with $retainKeys', deployment, { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } }],
  ['deployment template merge', deployment, { spec: { template: { spec: { containers: [{ name: 'c', image: 'j' }] } } } }],
  ['service ports by port', service, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 8443, name: 'alt' }] } }],
  ['service port delete', service, { spec: { ports: [{ port: 443, $patch: 'delete' }] } }],
  ['unknown $patch', pod, { spec: { nodeSelector: { $patch: 'explode' } } }],
  ['item without merge key', pod, { spec: { containers: [{ image: 'x' }] } }],
  ['patch outside $retainKeys', pod, { spec: { volumes: [{ name: 'data', secret: {}, $retainKeys: ['name'] }] } }],
];

const created = fixtureJson<KubeObject>('apply-create.json');
const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' }, spec: { podCIDR: '10.0.0.0/24' } };
const capturedCases: [string, KubeObject, 'strategic' | 'merge' | 'json', string][] = [
  ['apply-update.json', created, 'strategic', fixture('apply-update.json').toString()],
  ['apply-remove.json', created, 'strategic', fixture('apply-remove.json').toString()],
  ['edit.json', created, 'strategic', fixture('edit.json').toString()],
  ['rollout-restart.json', created, 'strategic', fixture('rollout-restart.json').toString()],
  ['drain.1.json', node, 'strategic', fixture('drain.1.json').toString()],
  ['label.json', created, 'merge', fixture('label.json').toString()],
  ['rollout-undo.json', { ...created, metadata: { ...created.metadata, annotations: { x: 'y' } } }, 'json', fixture('rollout-undo.json').toString()],
];

const mergeCases: [string, unknown][] = [
  ['null deletes and lists replace', { metadata: { labels: { app: null, x: 'y' } }, spec: { template: { spec: { containers: [{ name: 'z' }] } } } }],
];

const jsonCases: [string, unknown][] = [
  ['test op fails', [{ op: 'test', path: '/spec/replicas', value: 99 }]],
  ['replace of a missing key adds it (json-patch v4)', [{ op: 'replace', path: '/spec/paused', value: true }]],
  ['replace under a missing parent', [{ op: 'replace', path: '/spec/nope/x', value: true }]],
  ['remove of a missing key', [{ op: 'remove', path: '/status' }]],
  ['replace a list item', [{ op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'x' }]],
  ['replace past the end of a list', [{ op: 'replace', path: '/spec/template/spec/containers/5', value: {} }]],
  ['test op succeeds', [{ op: 'test', path: '/spec/replicas', value: 2 }, { op: 'replace', path: '/spec/replicas', value: 3 }]],
  ['add/copy/move/remove', [{ op: 'add', path: '/metadata/labels/x', value: '1' }, { op: 'copy', from: '/metadata/labels/x', path: '/metadata/labels/y' }, { op: 'move', from: '/metadata/labels/y', path: '/metadata/labels/z' }, { op: 'remove', path: '/metadata/labels/x' }]],
  ['append to a list', [{ op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'n', image: 'i' } }]],
];

describe.skipIf(!existsSync(kubectl))('patch engines agree with kubectl patch --local (upstream apimachinery)', () => {
  it.each(strategicCases)('strategic: %s', (_name, obj, patch) => {
    const p = JSON.stringify(patch);
    expect(viaEdgeos(obj, 'strategic', p)).toEqual(viaKubectl(obj, 'strategic', p));
  });

  it.each(capturedCases)('captured %s', (_name, obj, type, patch) => {
    expect(viaEdgeos(obj, type, patch)).toEqual(viaKubectl(obj, type, patch));
  });

  it.each(mergeCases)('merge: %s', (_name, patch) => {
    const p = JSON.stringify(patch);
    expect(viaEdgeos(created, 'merge', p)).toEqual(viaKubectl(created, 'merge', p));
  });

  it.each(jsonCases)('json: %s', (_name, patch) => {
    const p = JSON.stringify(patch);
    expect(viaEdgeos(created, 'json', p)).toEqual(viaKubectl(created, 'json', p));
  });
});
