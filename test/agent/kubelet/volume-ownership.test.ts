// The pod's fsGroup on a volume's files, as the kubelet's SetVolumeOwnership gives it: group,
// group bits and setgid directories; OnRootMismatch skips a volume whose root already fits, Always
// walks it again; symbolic links are changed themselves, never followed.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setVolumeOwnership } from '../../../src/agent/kubelet/volume-ownership.ts';

let dir: string;
const mode = (p: string) => statSync(p).mode & 0o7777;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eos-fsgroup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function volume(name: string): string {
  const v = join(dir, name);
  mkdirSync(join(v, 'sub'), { recursive: true, mode: 0o755 });
  chmodSync(v, 0o755);
  writeFileSync(join(v, 'sub', 'file'), 'x', { mode: 0o600 });
  chmodSync(join(v, 'sub', 'file'), 0o600);
  writeFileSync(join(dir, `${name}-outside`), 'y', { mode: 0o600 });
  symlinkSync(join(dir, `${name}-outside`), join(v, 'link'));
  return v;
}

describe('setVolumeOwnership', () => {
  it('gives every file and directory the group, group read/write and setgid directories', async () => {
    const v = volume('always');
    expect(await setVolumeOwnership(v, 2000)).toBe(true);
    expect(statSync(v).gid).toBe(2000);
    expect(mode(v)).toBe(0o2775);
    expect(mode(join(v, 'sub'))).toBe(0o2775);
    expect(statSync(join(v, 'sub', 'file')).gid).toBe(2000);
    expect(mode(join(v, 'sub', 'file'))).toBe(0o660);
    // The link itself changes group; what it points to outside the volume is untouched.
    expect(lstatSync(join(v, 'link')).gid).toBe(2000);
    expect(statSync(join(dir, 'always-outside')).gid).toBe(0);
    expect(mode(join(dir, 'always-outside'))).toBe(0o600);
  });

  it('gives read-only volumes only the read bits', async () => {
    const v = volume('ro');
    await setVolumeOwnership(v, 3000, { readOnly: true });
    expect(mode(join(v, 'sub', 'file'))).toBe(0o640);
    expect(mode(join(v, 'sub'))).toBe(0o2755);
  });

  it('skips the walk with OnRootMismatch once the root fits, and walks again with Always', async () => {
    const v = volume('policy');
    expect(await setVolumeOwnership(v, 2000, { policy: 'OnRootMismatch' })).toBe(true);
    // A file created later by someone else, not in the group.
    writeFileSync(join(v, 'later'), 'z', { mode: 0o600 });
    chmodSync(join(v, 'later'), 0o600);
    expect(await setVolumeOwnership(v, 2000, { policy: 'OnRootMismatch' })).toBe(false);
    expect(mode(join(v, 'later'))).toBe(0o600);
    expect(await setVolumeOwnership(v, 2000, { policy: 'Always' })).toBe(true);
    expect(mode(join(v, 'later'))).toBe(0o660);
    // Another group does not match the root: the walk happens.
    expect(await setVolumeOwnership(v, 4000, { policy: 'OnRootMismatch' })).toBe(true);
    expect(statSync(join(v, 'later')).gid).toBe(4000);
  });
});
