/**
 * What the real kubectl 1.32 does with our OpenAPI during create/apply (kubectl-wire.md §2): the
 * fieldValidation parameter makes it send fieldValidation=Strict, and complete schemas with patch
 * metadata let client-side apply build a strategic merge patch without the "unable to find api
 * field" warning.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiDocs } from '../../../src/server/openapi/index.ts';
import { KUBECTL, kubectl } from '../../helpers/kubectl.ts';
import { startFakeCluster, type FakeCluster } from './fake-cluster.ts';

function deployment(containers: string[]): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', annotations: { team: 'edge' } },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: containers.map((name) => ({ name, image: `${name}:1` })) } },
    },
  });
}

describe.skipIf(!existsSync(KUBECTL))('kubectl create/apply with our OpenAPI (real kubectl 1.32)', () => {
  let cluster: FakeCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startFakeCluster(new OpenApiDocs());
    dir = mkdtempSync(join(tmpdir(), 'edgeos-apply-'));
  });

  afterAll(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('apply sends fieldValidation=Strict and a strategic merge patch with merge keys', async () => {
    const file = join(dir, 'deploy.json');
    writeFileSync(file, deployment(['nginx', 'sidecar']));
    const created = await kubectl(cluster, ['apply', '-f', file]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const post = cluster.requests.find((r) => r.method === 'POST');
    expect(post?.path).toBe('/apis/apps/v1/namespaces/default/deployments');
    expect(post?.query.get('fieldValidation')).toBe('Strict');

    writeFileSync(file, deployment(['nginx']));
    const applied = await kubectl(cluster, ['apply', '-f', file]);
    expect(applied.stderr).not.toMatch(/warning|unable to find api field/i);
    expect(applied.code).toBe(0);
    const patch = cluster.requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch?.query.get('fieldValidation')).toBe('Strict');
    // Containers are merged by name: removal is a $patch: delete entry plus the element order.
    const body = JSON.parse(patch?.body ?? '{}') as { spec: { template: { spec: Record<string, unknown> } } };
    expect(body.spec.template.spec['$setElementOrder/containers']).toEqual([{ name: 'nginx' }]);
    expect(body.spec.template.spec.containers).toEqual([{ $patch: 'delete', name: 'sidecar' }]);
  });
});
