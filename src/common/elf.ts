// The one ELF fact edgeos checks: which CPU a file is for (e_machine), so the build, the bundle and
// the installer refuse a binary for the wrong architecture before it ships.
import { closeSync, openSync, readSync } from 'node:fs';

export const ELF_MACHINE = { amd64: 0x3e, arm64: 0xb7 } as const;

/** e_machine of an ELF file, or undefined when the file is not ELF. */
export function elfMachine(file: string): number | undefined {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    if (readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}
