/**
 * State that must survive a restart of `edgeos server` on the same data dir: objects, ClusterIP
 * and NodePort allocations, CRDs being served, and the default namespaces (created once).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../helpers/kubectl.ts';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeos-restart-'));
let server: RunningServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(s: RunningServer, args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(s, args, { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\n${r.stderr}\nserver:\n${s.output().slice(-3000)}`);
  return r.stdout;
}

describe('restart', () => {
  it('keeps objects, allocations and CRDs across a restart', async () => {
    server = await startServer({ dir });
    await ok(server, ['create', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: keep, namespace: default}\nspec:\n  type: NodePort\n  clusterIP: 10.43.9.9\n  ports: [{port: 80, nodePort: 31000}]\n');
    await ok(server, ['create', '-f', '-'], `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`);
    await ok(server, ['create', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 1}\n');
    const nsBefore = await ok(server, ['get', 'ns', '-o', 'jsonpath={.items[*].metadata.uid}']);
    await server.stop();

    server = await startServer({ dir });
    expect(await ok(server, ['get', 'ns', '-o', 'jsonpath={.items[*].metadata.uid}'])).toBe(nsBefore);
    expect(await ok(server, ['get', 'svc', 'keep', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}'])).toBe('10.43.9.9 31000');
    expect(await ok(server, ['get', 'widgets', 'w1', '-o', 'jsonpath={.spec.size}'])).toBe('1');
    const taken = await kubectl(server, ['create', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata: {name: other, namespace: default}\nspec:\n  clusterIP: 10.43.9.9\n  ports: [{port: 80}]\n' });
    expect(taken.stderr).toContain('provided IP is already allocated');
  });
});
