import { describe, expect, it } from 'vitest';
import { evaluateJsonPath } from '../../../src/server/api/table/json-path.ts';

const obj = {
  metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'web' } },
  spec: { size: 3, ports: [{ port: 80 }, { port: 443 }] },
  status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Synced', status: 'False' }] },
};

describe('printer column JSONPath', () => {
  it.each([
    ['.spec.size', [3]],
    ['.spec.ports[1].port', [443]],
    ['.spec.ports[*].port', [80, 443]],
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['web']],
    ['.spec.missing', []],
    ['{.spec.size}', [3]],
  ])('%s', (path, want) => {
    expect(evaluateJsonPath(obj, path)).toEqual(want);
  });
});
