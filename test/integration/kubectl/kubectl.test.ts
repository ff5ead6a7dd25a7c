/**
 * The real kubectl 1.32 against the real `edgeos server` (kubectl-wire.md is the spec). One server
 * for the file; each test works in its own namespace so tests stay independent.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlStream } from '../../helpers/kubectl.ts';
import type { KubectlResult } from '../../helpers/kubectl.ts';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';

let server: RunningServer;

beforeAll(async () => {
  // API machinery semantics (e.g. a deleted namespace stays Terminating until something empties it)
  // are tested on a passive API; the controllers have their own tests in test/server/controllers.
  server = await startServer({ extraArgs: ['--disable-controllers'] });
});
afterAll(async () => {
  await server?.stop();
});

function k(args: string[], stdin?: string): Promise<KubectlResult> {
  return kubectl(server, args, { stdin });
}

/** Run and require success, showing kubectl's output and the server log when it fails. */
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await k(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nserver:\n${server.output().slice(-4000)}`);
  return r.stdout;
}

function manifest(name: string, yaml: string): string {
  const file = join(server.dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

async function namespace(name: string): Promise<void> {
  await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`);
}

const deployment = (name: string, replicas: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: main
        image: ${image}
`;

describe('discovery and raw', () => {
  it('api-resources lists the served resources with short names and groups', async () => {
    const out = await ok(['api-resources']);
    expect(out).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^customresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1\s+false\s+CustomResourceDefinition$/m);
    expect(out).toMatch(/^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m);
    expect(out).toMatch(/^pods\s+metrics.k8s.io\/v1beta1\s+true\s+PodMetrics$/m);
  });

  it('get --raw prints bodies verbatim', async () => {
    expect((await ok(['get', '--raw', '/healthz'])).trim()).toBe('ok');
    const ns = JSON.parse(await ok(['get', '--raw', '/api/v1/namespaces/kube-system'])) as { metadata: { name: string }; status: { phase: string } };
    expect(ns.metadata.name).toBe('kube-system');
    expect(ns.status.phase).toBe('Active');
  });

  it('starts with the default namespaces and the kubernetes service', async () => {
    const out = await ok(['get', 'ns', '-o', 'name']);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(out).toContain(`namespace/${n}\n`);
    expect(await ok(['get', 'svc', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}'])).toBe('10.43.0.1');
  });
});

describe('get and describe', () => {
  beforeAll(async () => {
    await namespace('read');
    const file = manifest('read', `apiVersion: v1
kind: ConfigMap
metadata: {name: beta, namespace: read, labels: {tier: back}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: alpha, namespace: read, labels: {tier: front}}
data: {k: v, k2: v2}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: read, labels: {app: web}}
spec:
  containers: [{name: c, image: busybox:1.36}]
`);
    const out = await ok(['create', '-f', file]);
    expect(out).toBe('configmap/beta created\nconfigmap/alpha created\npod/web created\n');
  });

  it('prints kind-specific tables, -A, -l, --show-labels and --sort-by', async () => {
    const cms = await ok(['get', 'cm', '-n', 'read']);
    expect(cms).toMatch(/^NAME\s+DATA\s+AGE\n/);
    expect(cms).toMatch(/^alpha\s+2\s+\d+s$/m);
    const pods = await ok(['get', 'pods', '-A']);
    expect(pods).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    expect(pods).toMatch(/^read\s+web\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    expect(await ok(['get', 'cm', '-n', 'read', '-l', 'tier=front', '-o', 'name'])).toBe('configmap/alpha\n');
    expect(await ok(['get', 'cm', '-n', 'read', '-l', 'tier in (front,back)', '-o', 'name'])).toBe('configmap/alpha\nconfigmap/beta\n');
    expect(await ok(['get', 'cm', '-n', 'read', '--show-labels'])).toMatch(/^beta\s+1\s+\d+s\s+tier=back$/m);
    // --chunk-size=1 pages through the list with limit/continue.
    expect(await ok(['get', 'cm', '-n', 'read', '--chunk-size=1', '-o', 'name'])).toBe('configmap/alpha\nconfigmap/beta\n');
    expect(await ok(['get', 'cm', '-n', 'read', '--chunk-size=1'])).toMatch(/^NAME\s+DATA\s+AGE\nalpha\s+2\s+\S+\nbeta\s+1\s+\S+\n$/);
    const sorted = await ok(['get', 'cm', '-n', 'read', '--sort-by=.metadata.labels.tier', '-o', 'name']);
    expect(sorted).toBe('configmap/beta\nconfigmap/alpha\n');
    const bad = await k(['get', 'cm', '-n', 'read', '-l', 'tier in front']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("unable to parse requirement: found 'front', expected: '('");
  });

  it('get all, api-versions and field selectors', async () => {
    expect(await ok(['get', 'all', '-n', 'read'])).toMatch(/^pod\/web\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    const versions = await ok(['api-versions']);
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'policy/v1', 'coordination.k8s.io/v1', 'metrics.k8s.io/v1beta1']) expect(versions).toContain(`${gv}\n`);
    expect(await ok(['get', 'pods', '-A', '--field-selector=status.phase=Pending,metadata.namespace=read', '-o', 'name'])).toBe('pod/web\n');
    const bad = await k(['get', 'pods', '--field-selector=spec.image=x']);
    expect(bad.stderr.trim()).toBe('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.image=x": field label not supported: spec.image');
  });

  it('-o yaml, -o json and -o jsonpath see server-set metadata', async () => {
    const yaml = await ok(['get', 'pod', 'web', '-n', 'read', '-o', 'yaml']);
    expect(yaml).toMatch(/^ {2}uid: [0-9a-f-]{36}$/m);
    expect(yaml).toMatch(/^ {2}resourceVersion: "\d+"$/m);
    expect(yaml).toMatch(/^ {2}creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);
    expect(await ok(['get', 'cm', 'alpha', '-n', 'read', '-o', 'jsonpath={.data.k2}'])).toBe('v2');
    const list = JSON.parse(await ok(['get', 'cm', '-n', 'read', '-o', 'json'])) as { items: unknown[] };
    expect(list.items).toHaveLength(2);
  });

  it('describe shows the object and its (empty) events', async () => {
    const cm = await ok(['describe', 'cm', 'alpha', '-n', 'read']);
    expect(cm).toMatch(/^Name:\s+alpha$/m);
    expect(cm).toMatch(/^Labels:\s+tier=front$/m);
    const pod = await ok(['describe', 'pod', 'web', '-n', 'read']);
    expect(pod).toMatch(/^Status:\s+Pending$/m);
    expect(pod).toMatch(/^Events:\s+<none>$/m);
  });

  it('reports errors in the apiserver wording', async () => {
    const missing = await k(['get', 'pod', 'nope', '-n', 'read']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    const file = manifest('dup', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha, namespace: read}\n');
    const dup = await k(['create', '-f', file]);
    expect(dup.stderr.trim()).toBe(`Error from server (AlreadyExists): error when creating "${file}": configmaps "alpha" already exists`);
    const invalid = await k(['create', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad, namespace: read}\nspec:\n  containers: [{name: c}]\n');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('The Pod "bad" is invalid: spec.containers[0].image: Required value');
    const noNs = await k(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: nowhere}\n');
    expect(noNs.stderr).toContain('namespaces "nowhere" not found');
  });
});

describe('watch', () => {
  beforeAll(() => namespace('watch'));

  it('get -w prints the list, then one row per change', async () => {
    await ok(['create', 'configmap', 'first', '-n', 'watch', '--from-literal=a=1', '--dry-run=client', '-o', 'yaml']).then((y) => ok(['create', '-f', '-'], y));
    const w = kubectlStream(server, ['get', 'cm', '-n', 'watch', '-w']);
    try {
      await eventually(() => /^first\s+1\s+\S+$/m.test(w.output()), 20_000, 'the initial list');
      await ok(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second, namespace: watch}\ndata: {a: "1", b: "2"}\n');
      await eventually(() => /^second\s+2\s+\S+$/m.test(w.output()), 20_000, 'the ADDED row');
      await ok(['label', 'cm', 'first', '-n', 'watch', 'changed=yes']);
      await eventually(() => (w.output().match(/^first\s/gm) ?? []).length >= 2, 20_000, 'the MODIFIED row');
      expect(w.output().match(/^NAME\s+DATA\s+AGE$/gm)).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  it('get NAME -w -o name follows one object', async () => {
    const w = kubectlStream(server, ['get', 'cm', 'first', '-n', 'watch', '-w', '-o', 'name']);
    try {
      await eventually(() => w.output().includes('configmap/first'), 20_000, 'the object');
      await ok(['annotate', 'cm', 'first', '-n', 'watch', 'note=hello']);
      await ok(['annotate', 'cm', 'second', '-n', 'watch', 'note=other']);
      await eventually(() => (w.output().match(/configmap\/first/g) ?? []).length >= 2, 20_000, 'the change');
      expect(w.output()).not.toContain('configmap/second');
    } finally {
      await w.stop();
    }
  });
});

describe('writes', () => {
  beforeAll(() => namespace('write'));

  it('label and annotate (merge patches) add and remove keys', async () => {
    await ok(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lab, namespace: write}\n');
    expect(await ok(['label', 'cm', 'lab', '-n', 'write', 'a=1', 'b=2'])).toBe('configmap/lab labeled\n');
    expect(await ok(['label', 'cm', 'lab', '-n', 'write', 'b-'])).toBe('configmap/lab unlabeled\n');
    expect(await ok(['annotate', 'cm', 'lab', '-n', 'write', 'note=x'])).toBe('configmap/lab annotated\n');
    const obj = JSON.parse(await ok(['get', 'cm', 'lab', '-n', 'write', '-o', 'json'])) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(obj.metadata.labels).toEqual({ a: '1' });
    expect(obj.metadata.annotations).toEqual({ note: 'x' });
    const conflict = await k(['label', 'cm', 'lab', '-n', 'write', 'a=2']);
    expect(conflict.stderr).toContain("'a' already has a value (1), and --overwrite is false");
  });

  it('scale changes replicas through the scale subresource', async () => {
    await ok(['create', '-f', manifest('scale', deployment('sc', 1))], undefined);
    expect(await ok(['scale', 'deployment/sc', '-n', 'default', '--replicas=3'])).toBe('deployment.apps/sc scaled\n');
    expect(await ok(['get', 'deploy', 'sc', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}'])).toBe('3 2');
    expect(await ok(['scale', 'deployment/sc', '--current-replicas=3', '--replicas=2'])).toBe('deployment.apps/sc scaled\n');
    const wrong = await k(['scale', 'deployment/sc', '--current-replicas=7', '--replicas=1']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Expected replicas to be 7, was 2');
    await ok(['delete', 'deploy', 'sc']);
  });

  it('server-side dry run validates without storing', async () => {
    const out = await ok(['create', '-f', '-', '--dry-run=server'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry, namespace: write}\n');
    expect(out).toBe('configmap/dry created (server dry run)\n');
    const get = await k(['get', 'cm', 'dry', '-n', 'write']);
    expect(get.stderr.trim()).toBe('Error from server (NotFound): configmaps "dry" not found');
  });

  it('client-side apply creates, then patches with changes', async () => {
    const file = manifest('apply', deployment('applied', 1));
    expect(await ok(['apply', '-f', file, '-n', 'write'])).toBe('deployment.apps/applied created\n');
    expect(await ok(['apply', '-f', file, '-n', 'write'])).toBe('deployment.apps/applied unchanged\n');
    writeFileSync(file, deployment('applied', 2, 'nginx:1.27'));
    expect(await ok(['apply', '-f', file, '-n', 'write'])).toBe('deployment.apps/applied configured\n');
    expect(await ok(['get', 'deploy', 'applied', '-n', 'write', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}'])).toBe('2 nginx:1.27 2');
  });

  it('server-side apply creates and updates', async () => {
    const file = manifest('ssa', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: write}\ndata: {a: "1"}\n');
    expect(await ok(['apply', '--server-side', '-f', file])).toBe('configmap/ssa serverside-applied\n');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: write}\ndata: {a: "2"}\n');
    expect(await ok(['apply', '--server-side', '-f', file])).toBe('configmap/ssa serverside-applied\n');
    expect(await ok(['get', 'cm', 'ssa', '-n', 'write', '-o', 'jsonpath={.data.a}'])).toBe('2');
  });
});

describe('typed commands and other writes', () => {
  beforeAll(() => namespace('typed'));

  it('create <generator> sends protobuf bodies the server decodes', async () => {
    expect(await ok(['create', 'configmap', 'pb', '-n', 'typed', '--from-literal=a=1'])).toBe('configmap/pb created\n');
    expect(await ok(['create', 'secret', 'generic', 'pbs', '-n', 'typed', '--from-literal=p=q'])).toBe('secret/pbs created\n');
    expect(await ok(['create', 'deployment', 'pbd', '-n', 'typed', '--image=nginx', '--replicas=2'])).toBe('deployment.apps/pbd created\n');
    expect(await ok(['get', 'cm', 'pb', '-n', 'typed', '-o', 'jsonpath={.data.a}'])).toBe('1');
    // kubectl names the port "80-8080": a valid Service port name (DNS-1123 label, no letter needed).
    expect(await ok(['create', 'service', 'clusterip', 'pbsvc', '-n', 'typed', '--tcp=80:8080'])).toBe('service/pbsvc created\n');
    expect(await ok(['get', 'deploy', 'pbd', '-n', 'typed', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}'])).toBe('2 nginx');
    const svc = await ok(['expose', 'deploy', 'pbd', '-n', 'typed', '--port=80', '--type=NodePort']);
    expect(svc).toBe('service/pbd exposed\n');
    expect(await ok(['get', 'svc', 'pbd', '-n', 'typed'])).toMatch(/^pbd\s+NodePort\s+10\.43\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\S+$/m);
  });

  it('patch with merge, JSON and strategic patches', async () => {
    await ok(['patch', 'cm', 'pb', '-n', 'typed', '-p', '{"data":{"b":"2"}}']);
    await ok(['patch', 'cm', 'pb', '-n', 'typed', '--type=json', '-p', '[{"op":"replace","path":"/data/a","value":"9"}]']);
    await ok(['patch', 'deploy', 'pbd', '-n', 'typed', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}']);
    expect(await ok(['get', 'cm', 'pb', '-n', 'typed', '-o', 'jsonpath={.data.a}{.data.b}'])).toBe('92');
    expect(await ok(['get', 'deploy', 'pbd', '-n', 'typed', '-o', 'jsonpath={.spec.template.spec.containers[*].image}'])).toBe('nginx:1.27');
    const bad = await k(['patch', 'cm', 'pb', '-n', 'typed', '--type=json', '-p', '[{"op":"remove","path":"/data/missing"}]']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('The request is invalid: ');
  });

  it('edit, replace and wait --for=delete', async () => {
    const editor = join(server.dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/a: \\"9\\"/a: edited/" "$1"\n', { mode: 0o755 });
    const edited = await kubectl(server, ['edit', 'cm', 'pb', '-n', 'typed'], { env: { KUBE_EDITOR: editor } });
    expect(edited.stdout).toBe('configmap/pb edited\n');
    expect(await ok(['get', 'cm', 'pb', '-n', 'typed', '-o', 'jsonpath={.data.a}'])).toBe('edited');
    const yaml = (await ok(['get', 'cm', 'pb', '-n', 'typed', '-o', 'yaml'])).replace('a: edited', 'a: replaced');
    expect(await ok(['replace', '-f', '-'], yaml)).toBe('configmap/pb replaced\n');
    const waiting = kubectl(server, ['wait', '--for=delete', 'cm/pb', '-n', 'typed', '--timeout=30s']);
    await ok(['delete', 'cm', 'pb', '-n', 'typed', '--wait=false']);
    const waited = await waiting;
    expect(waited.code).toBe(0);
  });

  it('explains why logs and exec cannot reach a pod', async () => {
    await ok(['run', 'pending', '-n', 'typed', '--image=busybox']);
    await ok(['run', 'placed', '-n', 'typed', '--image=busybox', '--overrides={"spec":{"nodeName":"far-away"}}']);
    // apiserver answers logs of an unscheduled pod with no location: an empty stream.
    const pending = await k(['logs', 'pending', '-n', 'typed']);
    expect([pending.code, pending.stdout, pending.stderr.trim()]).toEqual([0, '', '']);
    expect((await k(['exec', 'pending', '-n', 'typed', '--', 'true'])).stderr).toContain('pod pending does not have a host assigned');
    expect((await k(['logs', 'placed', '-n', 'typed'])).stderr.trim()).toBe('Error from server (ServiceUnavailable): node far-away has no connected agent');
    const exec = await k(['exec', 'placed', '-n', 'typed', '--', 'true']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain('node far-away has no connected agent');
  });

  it('server-side apply reports conflicts with other managers', async () => {
    const file = manifest('ssa-conflict', deployment('owned', 1).replace('name: owned\n', 'name: owned\n  namespace: typed\n'));
    await ok(['apply', '-f', file]);
    await ok(['scale', 'deploy', 'owned', '-n', 'typed', '--replicas=5']);
    const r = await k(['apply', '--server-side', '-f', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: Apply failed with');
    expect(r.stderr).toContain('.spec.replicas');
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', file])).toBe('deployment.apps/owned serverside-applied\n');
    expect(await ok(['get', 'deploy', 'owned', '-n', 'typed', '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
  });
});

describe('delete', () => {
  beforeAll(() => namespace('del'));

  it('delete --wait returns once the object is gone', async () => {
    await ok(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: del}\n');
    expect(await ok(['delete', 'cm', 'gone', '-n', 'del', '--wait=true', '--timeout=20s'])).toBe('configmap "gone" deleted\n');
    const r = await k(['get', 'cm', 'gone', '-n', 'del']);
    expect(r.code).toBe(1);
  });

  // This server runs without controllers: what is left is what the API did with each policy. The
  // cascade itself is the garbage collector's (test/server/controllers/gc-namespace.test.ts).
  it('--cascade=background removes the owner; foreground and orphan keep it with the collector\'s finalizer', async () => {
    for (const [owner, cascade] of [['bg', 'background'], ['fg', 'foreground'], ['orph', 'orphan']] as const) {
      await ok(['create', '-f', '-'], deployment(owner, 1).replace(`name: ${owner}\n`, `name: ${owner}\n  namespace: del\n`));
      const uid = await ok(['get', 'deploy', owner, '-n', 'del', '-o', 'jsonpath={.metadata.uid}']);
      await ok(['create', '-f', '-'], `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${owner}-dep
  namespace: del
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: ${owner}, uid: ${uid}, controller: true}]
`);
      expect(await ok(['delete', 'deploy', owner, '-n', 'del', `--cascade=${cascade}`, '--wait=false'])).toBe(`deployment.apps "${owner}" deleted\n`);
    }
    expect((await k(['get', 'deploy', 'bg', '-n', 'del'])).code).toBe(1);
    expect(await ok(['get', 'deploy', 'fg', '-n', 'del', '-o', 'jsonpath={.metadata.finalizers}'])).toBe('["foregroundDeletion"]');
    expect(await ok(['get', 'deploy', 'orph', '-n', 'del', '-o', 'jsonpath={.metadata.finalizers}'])).toBe('["orphan"]');
    for (const owner of ['bg', 'fg', 'orph']) expect(await ok(['get', 'cm', `${owner}-dep`, '-n', 'del', '-o', 'jsonpath={.metadata.ownerReferences[0].name}'])).toBe(owner);
  });

  it('delete -l removes only the selected objects', async () => {
    for (const [n, l] of [['l1', 'one'], ['l2', 'one'], ['l3', 'two']]) {
      await ok(['create', '-f', '-'], `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}, namespace: del, labels: {grp: ${l}}}\n`);
    }
    expect(await ok(['delete', 'cm', '-n', 'del', '-l', 'grp=one'])).toBe('configmap "l1" deleted\nconfigmap "l2" deleted\n');
    expect(await ok(['get', 'cm', '-n', 'del', '-l', 'grp', '-o', 'name'])).toBe('configmap/l3\n');
  });

  it('deleting a namespace leaves it Terminating', async () => {
    await namespace('ending');
    expect(await ok(['delete', 'ns', 'ending', '--wait=false'])).toBe('namespace "ending" deleted\n');
    expect(await ok(['get', 'ns', 'ending', '-o', 'jsonpath={.status.phase}'])).toBe('Terminating');
  });
});

describe('custom resources', () => {
  it('serves a CRD with printer columns through kubectl', async () => {
    await ok(['apply', '-f', manifest('crd', `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {type: string}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
`)]);
    expect(await ok(['wait', '--for=condition=Established', 'crd/gadgets.example.com', '--timeout=20s'])).toBe('customresourcedefinition.apiextensions.k8s.io/gadgets.example.com condition met\n');
    await ok(['apply', '-f', manifest('gadget', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {color: blue}\n')]);
    // Applying a change sends a merge patch: the OpenAPI must not offer strategic merge for a custom resource.
    expect(await ok(['apply', '-f', manifest('gadget', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {color: red}\n')])).toBe('gadget.example.com/g1 configured\n');
    await ok(['apply', '-f', manifest('gadget', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {color: blue}\n')]);
    const out = await ok(['get', 'gd']);
    expect(out).toMatch(/^NAME\s+COLOR\s+AGE\n/);
    expect(out).toMatch(/^g1\s+blue\s+\d+s$/m);
    await ok(['delete', 'crd', 'gadgets.example.com']);
    const after = await k(['get', 'gadgets.example.com']);
    expect(after.code).not.toBe(0);
  });
});

describe('nodes, drain and top', () => {
  it('drains a node by evicting its pods', async () => {
    await ok(['create', '-f', '-'], `apiVersion: v1
kind: Node
metadata: {name: edge-1}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
`);
    await ok(['run', 'bound', '-n', 'default', '--image=busybox', '--overrides={"spec":{"nodeName":"edge-1"}}']);
    const out = await ok(['drain', 'edge-1', '--force', '--grace-period=0', '--timeout=30s']);
    expect(out).toContain('pod/bound evicted');
    expect(out).toContain('node/edge-1 drained');
    expect(await ok(['get', 'node', 'edge-1', '-o', 'jsonpath={.spec.unschedulable}'])).toBe('true');
    expect((await k(['get', 'pod', 'bound'])).code).toBe(1);
  });

  it('top finds the metrics API', async () => {
    const r = await k(['top', 'pod', '-n', 'default']);
    expect(r.stderr).not.toContain('Metrics API not available');
  });
});
