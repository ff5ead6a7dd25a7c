import { builtinPauseImage } from '../config.ts';
import { dockerArchive } from './docker-archive.ts';
import type { ImageArch } from './docker-archive.ts';

/**
 * The sandbox ("pause") image, produced offline by edgeos: no registry is reachable at many sites
 * and the device has no busybox. The binary is a static ELF of a few hundred bytes per
 * architecture. It does what the upstream pause does that matters here:
 *   - ignores SIGCHLD, so the kernel reaps zombies when it is PID 1 of a shared PID namespace;
 *   - exits 0 on SIGTERM/SIGINT (a handler that calls exit_group);
 *   - otherwise blocks forever in a syscall: pause(2) on x86-64; arm64 has no pause, so
 *     ppoll(NULL, 0, NULL, NULL) which also only returns on a signal.
 * containerd stops a sandbox with SIGKILL, which needs no cooperation.
 *
 * Machine code, assembled once with GNU as (x86-64 Intel syntax / aarch64) and kept as bytes:
 *   _start: rt_sigaction(17, &ign, 0, 8); rt_sigaction(15, &term, 0, 8); rt_sigaction(2, &term, 0, 8)
 *   wait:   pause() | ppoll(0,0,0,0,0); jmp wait
 *   setsig: x86 edx=0 r10d=8 eax=13 syscall ret | a64 x2=0 x3=8 x8=134 svc 0 ret
 *   onterm: exit_group(0)                      (x86 eax=231 | a64 x8=94)
 *   ign:  struct sigaction { handler = SIG_IGN (1), flags 0, restorer 0, mask 0 }
 *   term: struct sigaction { handler = &onterm, flags, restorer, mask 0 }   (patched in below)
 * x86-64 refuses to deliver a signal whose action lacks SA_RESTORER (the task gets SIGSEGV), so
 * there term carries SA_RESTORER with onterm as the restorer too (it never returns). arm64 returns
 * through the vDSO and gets flags 0; its struct has no restorer slot, so that word is the (zero)
 * mask either way.
 */
interface PauseCode {
  machine: number;
  code: string;
  /** Offset of onterm within the code. */
  handlerOffset: number;
  restorer: boolean;
}

const pauseCode: Record<ImageArch, PauseCode> = {
  amd64: {
    machine: 62, // EM_X86_64
    code:
      'bf11000000488d354c000000e82b000000bf0f000000488d355b000000e81a000000' +
      'bf02000000488d354a000000e809000000b8220000000f05ebf731d241ba08000000' +
      'b80d0000000f05c331ffb8e70000000f050f1f00',
    handlerOffset: 0x4c,
    restorer: true,
  },
  arm64: {
    machine: 183, // EM_AARCH64
    code:
      '200280d2210300100f000094e00180d2c10300100c000094400080d2610300100900' +
      '0094000080d2010080d2020080d2030080d2040080d2280980d2010000d4f9ffff17' +
      '020080d2030180d2c81080d2010000d4c0035fd6000080d2c80b80d2010000d41f2003d5',
    handlerOffset: 0x58,
    restorer: false,
  },
};

const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;
const SA_RESTORER = 0x04000000n;

/** A static ELF64 executable: one R+X PT_LOAD segment holding headers, code and the two structs. */
export function pauseElf(arch: ImageArch): Buffer {
  const { machine, code, handlerOffset, restorer } = pauseCode[arch];
  const text = Buffer.from(code, 'hex');
  const codeStart = EHDR + PHDR; // 120, 8-byte aligned as the structs need
  const data = Buffer.alloc(64);
  data.writeBigUInt64LE(1n, 0); // ign.handler = SIG_IGN
  const onterm = BigInt(BASE + codeStart + handlerOffset);
  data.writeBigUInt64LE(onterm, 32); // term.handler
  if (restorer) {
    data.writeBigUInt64LE(SA_RESTORER, 40);
    data.writeBigUInt64LE(onterm, 48);
  }
  const fileSize = codeStart + text.length + data.length;

  const h = Buffer.alloc(codeStart);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = 2; // 64-bit
  h[5] = 1; // little endian
  h[6] = 1; // ELF version
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(machine, 18);
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(BigInt(BASE + codeStart), 24); // entry
  h.writeBigUInt64LE(BigInt(EHDR), 32); // phoff
  h.writeUInt16LE(EHDR, 52);
  h.writeUInt16LE(PHDR, 54);
  h.writeUInt16LE(1, 56); // phnum
  // Program header
  h.writeUInt32LE(1, EHDR); // PT_LOAD
  h.writeUInt32LE(5, EHDR + 4); // PF_R | PF_X
  h.writeBigUInt64LE(0n, EHDR + 8);
  h.writeBigUInt64LE(BigInt(BASE), EHDR + 16);
  h.writeBigUInt64LE(BigInt(BASE), EHDR + 24);
  h.writeBigUInt64LE(BigInt(fileSize), EHDR + 32);
  h.writeBigUInt64LE(BigInt(fileSize), EHDR + 40);
  h.writeBigUInt64LE(0x1000n, EHDR + 48);
  if (text.length % 8 !== 0) throw new Error('pause code must keep the structs 8-byte aligned');
  return Buffer.concat([h, text, data]);
}

/** The docker-archive of the pause image for one architecture. */
export function pauseImageArchive(arch: ImageArch, repoTag: string = builtinPauseImage): Buffer {
  return dockerArchive({
    repoTag,
    arch,
    layer: [{ type: 'file', name: 'pause', data: pauseElf(arch), mode: 0o755 }],
    entrypoint: ['/pause'],
  });
}
