/**
 * A second real client library from another language: the official Python client (Debian's
 * python3-kubernetes, scripts/setup.sh --test) runs python_client.py against a real `edgeos
 * server`: typed CRUD, strategic/JSON/merge patches, scale, a watch (sent as `watch=True`), a CRD
 * with its custom objects, the dynamic client with server-side apply (`force=True`), and a
 * mistyped body refused with 400. The script prints one JSON line per check.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';

// Debian's package installs for the system interpreter, not for a python3 earlier on PATH.
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'python_client.py');

let server: RunningServer;
let work: string;

beforeAll(async () => {
  server = await startServer({ extraArgs: ['--disable-controllers'] });
  work = mkdtempSync(join(tmpdir(), 'edgeos-python-client-'));
});
afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function runScript(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SCRIPT, server.kubeconfig, work], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the official Python client against edgeos server', () => {
  it('does CRUD, patches, scale, watch, CRDs and the dynamic client', async () => {
    const run = await runScript();
    expect(run.code, `python_client.py failed:\n${run.stderr}\n${run.stdout}\n${server.output().slice(-3000)}`).toBe(0);
    const checks = new Map<string, Record<string, unknown>>();
    for (const line of run.stdout.split('\n').filter((l) => l.startsWith('{'))) {
      const parsed = JSON.parse(line) as { check: string } & Record<string, unknown>;
      checks.set(parsed.check, parsed);
    }
    expect([...checks.keys()]).toEqual(['typed-crud', 'patch', 'scale', 'watch', 'custom-objects', 'dynamic', 'typed-decoding', 'done']);

    expect(checks.get('typed-crud')).toMatchObject({ uid: true, data: { a: '1', b: '2' }, listed: true, deleted: true });
    expect(checks.get('patch')).toMatchObject({ strategic: [['web', 'nginx:1.26', 80]], json_patch: { app: 'py-web', tier: 'front' }, merge: 'yes' });
    expect(checks.get('scale')).toMatchObject({ patched: 3, replaced: 2, deployment: 2 });
    expect(checks.get('watch')?.events).toEqual([
      ['ADDED', 'py-watched', { v: '1' }],
      ['MODIFIED', 'py-watched', { v: '2' }],
      ['DELETED', 'py-watched', { v: '2' }],
    ]);
    expect(checks.get('custom-objects')).toMatchObject({ spec: { size: 2, color: 'red' }, listed: ['g1'] });
    expect(checks.get('dynamic')).toMatchObject({ gadget: 'red', conflict: 409, forced: 'two' });
    expect(checks.get('typed-decoding')).toMatchObject({
      status: 400,
      message: 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field PodSpec.spec.containers of type v1.Container',
      stored: false,
    });
  }, 180_000);
});
