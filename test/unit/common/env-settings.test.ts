// The flagless EDGEOS_* variables: one parser, and a bad value refuses the start of the command
// (the agent's and the server's own process, not only the function) with the variable named.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAP_COMPACT, MALLOC_TRIM, POD_START_CONCURRENCY, readEnvSetting, resolveAgentTuning } from '../../../src/common/env-settings.ts';
import { InvalidInputError } from '../../../src/common/errors.ts';

describe('readEnvSetting', () => {
  it.each([
    ['1', 1],
    ['16', 16],
    [' 3 ', 3],
    ['0', Infinity],
  ])('EDGEOS_POD_START_CONCURRENCY=%j is %d', (v, n) => {
    expect(readEnvSetting({ EDGEOS_POD_START_CONCURRENCY: v }, POD_START_CONCURRENCY)).toBe(n);
  });

  it.each(['abc', '-1', '2.5', '1e3', '0x10', '3 pods', '+2'])('EDGEOS_POD_START_CONCURRENCY=%j is refused, naming the variable and what it accepts', (v) => {
    const read = () => readEnvSetting({ EDGEOS_POD_START_CONCURRENCY: v }, POD_START_CONCURRENCY);
    expect(read).toThrow(InvalidInputError);
    expect(read).toThrow(`EDGEOS_POD_START_CONCURRENCY: ${JSON.stringify(v)} is not accepted (0 = unbounded, or a positive integer)`);
  });

  it('unset or empty is the default (undefined)', () => {
    expect(readEnvSetting({}, POD_START_CONCURRENCY)).toBeUndefined();
    expect(readEnvSetting({ EDGEOS_POD_START_CONCURRENCY: '  ' }, POD_START_CONCURRENCY)).toBeUndefined();
  });

  it.each([HEAP_COMPACT, MALLOC_TRIM])('$variable takes on or off, nothing else', (s) => {
    expect(readEnvSetting({ [s.variable]: 'off' }, s)).toBe('off');
    expect(readEnvSetting({ [s.variable]: 'on' }, s)).toBe('on');
    for (const v of ['0', 'false', 'OFF', 'of']) expect(() => readEnvSetting({ [s.variable]: v }, s)).toThrow(`${s.variable}: ${JSON.stringify(v)} is not accepted (on or off)`);
  });

  it('resolveAgentTuning checks all three and returns the concurrency', () => {
    expect(resolveAgentTuning({ EDGEOS_POD_START_CONCURRENCY: '2', EDGEOS_HEAP_COMPACT: 'off', EDGEOS_MALLOC_TRIM: 'on' })).toEqual({ podStartConcurrency: 2 });
    expect(() => resolveAgentTuning({ EDGEOS_HEAP_COMPACT: 'no' })).toThrow(/^EDGEOS_HEAP_COMPACT: /);
  });
});

describe('a bad value refuses the start', () => {
  const root = mkdtempSync(join(tmpdir(), 'edgeos-hygiene-env-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const main = join(import.meta.dirname, '../../../src/cli/main.ts');

  it.each([
    ['agent', ['agent', '--data-dir', join(root, 'agent')]],
    ['join', ['join', 'K10abc::node:secret', '--data-dir', join(root, 'join')]],
    ['server', ['server', '--data-dir', join(root, 'server'), '--write-kubeconfig', join(root, 'kc.yaml'), '--https-listen-port', '1']],
  ])('edgeos %s exits 1 naming EDGEOS_POD_START_CONCURRENCY before it starts anything', (_name, args) => {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, EDGEOS_POD_START_CONCURRENCY: 'abc' } });
    expect(r.stderr).toContain('EDGEOS_POD_START_CONCURRENCY: "abc" is not accepted (0 = unbounded, or a positive integer)');
    expect(r.status).toBe(1);
  }, 60_000);
});
