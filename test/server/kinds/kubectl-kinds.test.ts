/**
 * Kind behaviour as the real kubectl 1.32 shows it through the in-process API: validation
 * messages of `create -f`, defaults in `get -o yaml`, table columns, and `explain`.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi, type InProcessApi } from '../../helpers/in-process-api.ts';
import { KUBECTL, kubectl } from '../../helpers/kubectl.ts';

describe.skipIf(!existsSync(KUBECTL))('kinds through kubectl', () => {
  let api: InProcessApi;
  beforeAll(async () => {
    api = await startInProcessApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const k = (args: string[], stdin?: string) => kubectl(api, ['-n', 'default', ...args], stdin === undefined ? {} : { stdin });

  it('create -f reports upstream validation messages', async () => {
    const noImage = await k(['create', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: c}]\n');
    expect(noImage.code).toBe(1);
    expect(noImage.stderr.trim()).toBe('The Pod "bad" is invalid: spec.containers[0].image: Required value');

    const restart = await k(['create', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  restartPolicy: Sometimes\n  containers: [{name: c, image: x}]\n');
    expect(restart.stderr.trim()).toBe('The Pod "bad" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"');

    const selector = await k(
      ['create', '-f', '-'],
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: x}}\n    spec: {containers: [{name: c, image: nginx}]}\n',
    );
    expect(selector.stderr.trim()).toBe(
      'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    );
  });

  it('get -o yaml shows the defaults and get prints kubectl columns', async () => {
    const created = await k(
      ['create', '-f', '-'],
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: nginx, image: nginx}]}\n',
    );
    expect(created.stderr).toBe('');
    const yaml = await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas} {.spec.strategy.rollingUpdate.maxSurge} {.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.schedulerName}']);
    expect(yaml.stdout).toBe('1 25% Always default-scheduler');
    const table = await k(['get', 'deployment', '-o', 'wide']);
    expect(table.stdout.split('\n')[0]?.split(/\s+/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(table.stdout.split('\n')[1]).toMatch(/^web\s+0\/1\s+0\s+0\s+\S+\s+nginx\s+nginx\s+app=web$/);
  });

  it('explain works against the served OpenAPI', async () => {
    const r = await k(['explain', 'pod.spec.containers.image']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('FIELD: image <string>');
  });
});
