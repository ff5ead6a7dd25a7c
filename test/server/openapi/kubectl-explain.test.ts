/**
 * The real kubectl 1.32 `explain` against our OpenAPI v3 documents, served with just enough
 * discovery (fake-cluster.ts) to cover the OpenAPI side on its own.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiDocs, groupVersionPath, publishedGroupVersions } from '../../../src/server/openapi/index.ts';
import { KUBECTL, kubectl } from '../../helpers/kubectl.ts';
import { startFakeCluster, type FakeCluster } from './fake-cluster.ts';

const crd = {
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string', description: 'The cron schedule to run on.' } } } } } } }],
  },
};

const available = existsSync(KUBECTL);

describe.skipIf(!available)('kubectl explain (real kubectl 1.32)', () => {
  let cluster: FakeCluster;

  beforeAll(async () => {
    const docs = new OpenApiDocs();
    docs.addCrd(crd);
    cluster = await startFakeCluster(docs, [{ group: 'stable.example.com', version: 'v1', resources: [{ resource: 'crontabs', kind: 'CronTab', namespaced: true }] }]);
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('explains pod.spec.containers', async () => {
    const r = await kubectl(cluster, ['explain', 'pod.spec.containers']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n/);
    expect(r.stdout).toContain('FIELD: containers <[]Container>');
    expect(r.stdout).toContain('A single application container that you want to run within a pod.');
    expect(r.stdout).toMatch(/image\t<string>/);
    expect(r.stdout).toMatch(/name\t<string> -required-/);
    expect(r.stdout).toMatch(/ports\t<\[\]ContainerPort>/);
  });

  it('explains deployment.spec', async () => {
    const r = await kubectl(cluster, ['explain', 'deployment.spec']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
    expect(r.stdout).toMatch(/selector\t<LabelSelector> -required-/);
    expect(r.stdout).toMatch(/strategy\t<DeploymentStrategy>/);
    expect(r.stdout).toMatch(/template\t<PodTemplateSpec> -required-/);
  });

  it('explains a nested IntOrString field and a custom resource', async () => {
    const surge = await kubectl(cluster, ['explain', 'deployment.spec.strategy.rollingUpdate.maxSurge']);
    expect(surge.code).toBe(0);
    expect(surge.stdout).toContain('FIELD: maxSurge <IntOrString>');
    const limits = await kubectl(cluster, ['explain', 'pod.spec.containers.resources']);
    expect(limits.stdout).toMatch(/limits\t<map\[string\]Quantity>/);
    const cr = await kubectl(cluster, ['explain', 'crontab.spec.cronSpec']);
    expect(cr.code).toBe(0);
    expect(cr.stdout).toContain('The cron schedule to run on.');
  });

  it('every served kind explains', async () => {
    for (const gv of publishedGroupVersions())
      for (const res of gv.resources) {
        const r = await kubectl(cluster, ['explain', res.resource, `--api-version=${gv.group ? `${gv.group}/` : ''}${gv.version}`]);
        expect(`${groupVersionPath(gv.group, gv.version)} ${res.resource}: ${r.code} ${r.stderr}`).toBe(`${groupVersionPath(gv.group, gv.version)} ${res.resource}: 0 `);
        expect(r.stdout).toContain(`KIND:       ${res.kind}`);
      }
  });
});
