// The ELF facts edgeos checks: which CPU a file is for (e_machine), so the build, the bundle and
// the installer refuse a binary for the wrong architecture before it ships; and which shared
// libraries it needs (DT_NEEDED), so the bundle ships them with nft and conntrack.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

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

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;

/**
 * The shared libraries a 64-bit little-endian ELF file (amd64, arm64) names in its dynamic
 * section (DT_NEEDED), in order; [] for a static executable. Throws on a file that is not such an
 * ELF file.
 */
export function elfNeeded(file: string): string[] {
  const b = readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const loads: { vaddr: number; offset: number; size: number }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = b.readUInt32LE(p);
    const offset = Number(b.readBigUInt64LE(p + 8));
    const vaddr = Number(b.readBigUInt64LE(p + 16));
    const size = Number(b.readBigUInt64LE(p + 32));
    if (type === PT_LOAD) loads.push({ vaddr, offset, size });
    else if (type === PT_DYNAMIC) dynamic = { offset, size };
  }
  if (!dynamic) return [];
  const needed: number[] = [];
  let strtab: number | undefined;
  for (let p = dynamic.offset; p + 16 <= dynamic.offset + dynamic.size; p += 16) {
    const tag = Number(b.readBigInt64LE(p));
    const val = Number(b.readBigUInt64LE(p + 8));
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) needed.push(val);
    else if (tag === DT_STRTAB) strtab = val;
  }
  // DT_STRTAB is an address: find the file offset of the segment that holds it.
  const seg = strtab === undefined ? undefined : loads.find((l) => strtab! >= l.vaddr && strtab! < l.vaddr + l.size);
  if (!seg) throw new Error(`${file}: no string table for its dynamic section`);
  const base = seg.offset + (strtab! - seg.vaddr);
  return needed.map((off) => {
    const start = base + off;
    return b.toString('latin1', start, b.indexOf(0, start));
  });
}
