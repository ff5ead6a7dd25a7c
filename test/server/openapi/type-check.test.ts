/**
 * The type checker's module: the committed validators are what scripts/gen-type-check.ts makes of
 * schemas.json, integer widths follow upstream (int32 vs int64), and the Go wording of mismatches
 * for the special types (IntOrString, Quantity, RawExtension) and for values nested in maps.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { typeMismatch } from '../../../src/server/openapi/type-check/index.ts';

const POD = { group: '', version: 'v1', kind: 'Pod' };

describe('generated validators', () => {
  it('match what scripts/gen-type-check.ts produces from schemas.json', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const dir = mkdtempSync(join(tmpdir(), 'edgeos-type-check-'));
    try {
      const out = join(dir, 'validators.js');
      execFileSync(process.execPath, [join(root, 'scripts/gen-type-check.ts'), out], { stdio: 'ignore' });
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(root, 'src/server/openapi/type-check/validators.generated.js'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('typeMismatch', () => {
  const container = (extra: Record<string, unknown>): object => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', ...extra }] } });

  it('knows int32 from int64 (widths from upstream, not from TypeScript)', () => {
    expect(typeMismatch(POD, { spec: { terminationGracePeriodSeconds: 2 ** 40 } })).toBeUndefined();
    expect(typeMismatch(POD, { spec: { priority: 2 ** 40 } })?.message).toBe('json: cannot unmarshal number 1099511627776 into Go struct field PodSpec.spec.priority of type int32');
  });

  it('takes an int-or-string as either, and names it when neither', () => {
    expect(typeMismatch(POD, container({ ports: [{ containerPort: 80, name: 'http' }], readinessProbe: { tcpSocket: { port: 'http' } } }))).toBeUndefined();
    expect(typeMismatch(POD, container({ readinessProbe: { tcpSocket: { port: 1.5 } } }))).toEqual({
      message: 'json: cannot unmarshal number 1.5 into Go struct field TCPSocketAction.spec.containers.readinessProbe.tcpSocket.port of type intstr.IntOrString',
      field: 'spec.containers[0].readinessProbe.tcpSocket.port',
      expected: 'int32 or string',
      found: 'number',
    });
  });

  it('takes a quantity as a string or a number', () => {
    expect(typeMismatch(POD, container({ resources: { requests: { memory: 1024, cpu: 0.5 } } }))).toBeUndefined();
    expect(typeMismatch(POD, container({ resources: { requests: { memory: ['1Gi'] } } }))?.field).toBe('spec.containers[0].resources.requests[memory]');
  });

  it('takes anything in a RawExtension and in preserved schema fragments', () => {
    const rev = { group: 'apps', version: 'v1', kind: 'ControllerRevision' };
    for (const data of [1, 'x', [1], { any: { thing: [true] } }]) expect(typeMismatch(rev, { revision: 1, data })).toBeUndefined();
    expect(typeMismatch(rev, { revision: '1' })?.message).toBe('json: cannot unmarshal string into Go struct field ControllerRevision.revision of type int64');
  });

  it('escapes nothing it should not: map keys with slashes name the field', () => {
    expect(typeMismatch(POD, { metadata: { annotations: { 'example.com/a~b': 1 } } })?.field).toBe('metadata.annotations[example.com/a~b]');
  });

  it('does not check kinds without a published schema', () => {
    expect(typeMismatch({ group: 'example.com', version: 'v9', kind: 'Widget' }, { spec: 5 })).toBeUndefined();
  });
});
