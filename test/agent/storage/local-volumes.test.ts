// ensureLocalVolume when the kubelet (mounting) and LocalVolumes (provisioning) create the same
// volume at once, as they do when the volume reaches the node with its first pod.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLocalVolume } from '../../../src/agent/storage/local-volumes.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ensureLocalVolume', () => {
  it('creates a volume asked for several times at once, once, with its mode', async () => {
    const dir = mkdtempSync('/tmp/eos-local-volume-');
    dirs.push(dir);
    const path = join(dir, 'storage', 'pvc-1_default_data');
    await Promise.all(Array.from({ length: 4 }, () => ensureLocalVolume(path)));
    expect(statSync(path).mode & 0o7777).toBe(0o777);
    expect(statSync(join(dir, 'storage')).mode & 0o7777).toBe(0o700);
  });

  it('leaves an existing directory and its mode alone', async () => {
    const dir = mkdtempSync('/tmp/eos-local-volume-');
    dirs.push(dir);
    const path = join(dir, 'v');
    await ensureLocalVolume(path);
    chmodSync(path, 0o2770);
    await Promise.all([ensureLocalVolume(path), ensureLocalVolume(path)]);
    expect(statSync(path).mode & 0o7777).toBe(0o2770);
  });
});
