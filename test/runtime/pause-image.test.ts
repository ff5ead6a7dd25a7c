// The pause binary edgeos writes: it must start, block, exit 0 on SIGTERM/SIGINT, and survive
// SIGCHLD; the arm64 build runs under qemu-user when the machine has it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { hostImageArch } from '../../src/runtime/images/docker-archive.ts';
import { pauseElf, pauseImageArchive } from '../../src/runtime/images/pause-image.ts';

const dir = mkdtempSync('/tmp/eos-pause-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const qemu = '/usr/bin/qemu-aarch64-static';

async function runAndSignal(cmd: string, args: string[], signals: NodeJS.Signals[]): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  // Still alive after a while means it blocks instead of exiting or crashing.
  const early = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 400))]);
  expect(early).toBeUndefined();
  const t0 = Date.now();
  for (const s of signals) child.kill(s);
  const res = await exited;
  return { ...res, ms: Date.now() - t0 };
}

function extractLayerFile(archive: Buffer, name: string): Buffer {
  // Walk the outer tar to layer.tar, then the inner tar to `name`.
  const walk = (tar: Buffer, want: (n: string) => boolean): Buffer | undefined => {
    for (let off = 0; off + 512 <= tar.length;) {
      const n = tar.subarray(off, off + 100).toString().replace(/\0.*$/s, '');
      if (!n) return undefined;
      const size = Number.parseInt(tar.subarray(off + 124, off + 136).toString().replace(/\0.*$/s, ''), 8);
      if (want(n)) return tar.subarray(off + 512, off + 512 + size);
      off += 512 + Math.ceil(size / 512) * 512;
    }
    return undefined;
  };
  const layer = walk(archive, (n) => n.endsWith('/layer.tar'))!;
  return walk(layer, (n) => n === name)!;
}

describe('built-in pause image', () => {
  it('is a valid static ELF per architecture', () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      const elf = pauseElf(arch);
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(elf.readUInt16LE(18)).toBe(arch === 'amd64' ? 62 : 183);
      expect(elf.length).toBeLessThan(512);
    }
  });

  it('docker-archive carries the binary, the entrypoint and the architecture', () => {
    const archive = pauseImageArchive('arm64');
    expect(extractLayerFile(archive, 'pause')).toEqual(pauseElf('arm64'));
    expect(archive.toString('latin1')).toContain('"architecture":"arm64"');
    expect(archive.toString('latin1')).toContain('"Entrypoint":["/pause"]');
  });

  it(`${hostImageArch()} binary blocks, ignores SIGCHLD and exits 0 on SIGTERM and SIGINT`, async () => {
    const file = `${dir}/pause-host`;
    writeFileSync(file, pauseElf(hostImageArch()), { mode: 0o755 });
    const term = await runAndSignal(file, [], ['SIGCHLD', 'SIGTERM']);
    expect(term).toMatchObject({ code: 0, signal: null });
    expect(term.ms).toBeLessThan(2000);
    expect(await runAndSignal(file, [], ['SIGINT'])).toMatchObject({ code: 0, signal: null });
  });

  it.skipIf(!existsSync(qemu))('arm64 binary runs under qemu-aarch64 and exits 0 on SIGTERM (skipped without qemu-user-static)', async () => {
    const file = `${dir}/pause-arm64`;
    writeFileSync(file, pauseElf('arm64'), { mode: 0o755 });
    const res = await runAndSignal(qemu, [file], ['SIGCHLD', 'SIGTERM']);
    expect(res).toMatchObject({ code: 0, signal: null });
  });
});
