// The emulated arm64 gateway of test/arm64 and bench/arm64: qemu-system-aarch64 (-M virt, TCG,
// 2 vCPUs, 512 MB) booting the Debian arm64 root that scripts/arm64-guest.sh builds and caches.
// Each run writes to its own qcow2 overlay over the cached image (which it never changes), so a
// reboot keeps the run's state and the next run starts clean. The host drives the guest through a
// root shell on the virtio console hvc0 (a unix socket here), reads its kernel/OpenRC console from
// a file, hands it files on a second, read-only virtio disk (an ext4 image made with mkfs.ext4 -d)
// and gives it exactly one network path: qemu user-mode networking with restrict=on (no route out)
// and one guestfwd, guest 10.0.2.100:<port> → 127.0.0.1:<port> on the host (the edgeos server).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const QEMU = '/usr/bin/qemu-system-aarch64';
/** The host as the guest sees it: qemu forwards this address (server port only) to the host's loopback. */
export const SERVER_ADDRESS_IN_GUEST = '10.0.2.100';
export const GUEST_MEMORY_MB = 512;

/** Why the arm64 gateway cannot run here, or undefined when it can. */
export function guestUnavailable(): string | undefined {
  return existsSync(QEMU) ? undefined : `${QEMU} is absent (scripts/setup.sh --test installs qemu-system-arm)`;
}

export interface GuestImage { dir: string; root: string; kernel: string; initrd: string; busybox: string; builtFrom: string }

/** The cached guest image; built from scratch (minutes) when the cache has none for this recipe. */
export function guestImage(log: (s: string) => void = () => {}): GuestImage {
  const t0 = Date.now();
  const r = spawnSync('bash', [join(REPO, 'scripts/arm64-guest.sh')], { encoding: 'utf8', timeout: 3_600_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`scripts/arm64-guest.sh failed (${r.status ?? r.signal}):\n${r.stderr}`);
  const dir = r.stdout.trim().split('\n').pop()!;
  if (r.stderr.includes('building')) log(`built the arm64 guest image in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${dir}`);
  return { dir, root: join(dir, 'root.img'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), busybox: join(dir, 'busybox'), builtFrom: readFileSync(join(dir, 'built-from'), 'utf8') };
}

/** An ext4 image holding `dir` (files the guest reads from /dev/vdb), no loop mount needed. */
export function transferDisk(dir: string, file: string): string {
  const kb = Number(execFileSync('du', ['-sk', '--apparent-size', dir], { encoding: 'utf8' }).split('\t')[0]);
  const mb = Math.ceil((kb * 1.1) / 1024) + 32;
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'edgeos-xfer', '-d', dir, file, `${mb}M`]);
  return file;
}

export interface GuestOptions {
  image: GuestImage;
  /** Scratch directory of this run: overlay, sockets, console log. */
  workDir: string;
  /** Host loopback port the guest reaches at SERVER_ADDRESS_IN_GUEST:<same port>. */
  serverPort: number;
  /** A disk image to attach read-only as /dev/vdb. */
  transfer?: string;
  log?: (s: string) => void;
}

export interface ExecResult { code: number; out: string }

export class Guest {
  private qemu: ChildProcess | undefined;
  private sock: Socket | undefined;
  private buf = '';
  private seq = 0;
  private waiters: (() => void)[] = [];
  readonly consoleLog: string;
  private readonly ctl: string;
  private readonly log: (s: string) => void;
  /** Host time (ms) when qemu was started / the guest last reset. */
  bootStartedAt = 0;

  private readonly o: GuestOptions;

  private constructor(o: GuestOptions) {
    this.o = o;
    this.consoleLog = join(o.workDir, 'console.log');
    this.ctl = join(o.workDir, 'hvc0.sock');
    this.log = o.log ?? (() => {});
  }

  static async boot(o: GuestOptions): Promise<Guest> {
    const g = new Guest(o);
    await g.start();
    return g;
  }

  private async start(): Promise<void> {
    const o = this.o;
    mkdirSync(o.workDir, { recursive: true });
    const overlay = join(o.workDir, 'root.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', o.image.root, overlay]);
    const busybox = existsSync('/bin/busybox') ? '/bin/busybox' : 'busybox';
    const args = [
      '-M', 'virt', '-accel', 'tcg,thread=multi', '-cpu', 'cortex-a72', '-smp', '2', '-m', String(GUEST_MEMORY_MB),
      '-kernel', o.image.kernel, '-initrd', o.image.initrd,
      '-append', 'root=/dev/vda rw console=ttyAMA0 quiet loglevel=4 fsck.mode=skip net.ifnames=0',
      '-drive', `file=${overlay},if=none,id=root,format=qcow2,cache=unsafe`, '-device', 'virtio-blk-pci,drive=root',
      ...(o.transfer ? ['-drive', `file=${o.transfer},if=none,id=xfer,format=raw,readonly=on`, '-device', 'virtio-blk-pci,drive=xfer'] : []),
      // restrict=on: the guest reaches nothing but the guestfwd below (qemu runs the command per connection).
      '-netdev', `user,id=net0,restrict=on,guestfwd=tcp:${SERVER_ADDRESS_IN_GUEST}:${o.serverPort}-cmd:${busybox} nc 127.0.0.1 ${o.serverPort}`,
      '-device', 'virtio-net-pci,netdev=net0',
      '-chardev', `socket,id=hvc0,path=${this.ctl},server=on,wait=off`, '-device', 'virtio-serial-pci', '-device', 'virtconsole,chardev=hvc0',
      '-serial', `file:${this.consoleLog}`, '-display', 'none', '-monitor', 'none', '-nodefaults',
    ];
    this.bootStartedAt = Date.now();
    this.qemu = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    this.qemu.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    this.qemu.once('exit', (code, sig) => this.log(`qemu exited (${code ?? sig}) ${err.trim()}`));
    for (let i = 0; ; i++) {
      if (this.qemu.exitCode !== null) throw new Error(`qemu-system-aarch64 exited ${this.qemu.exitCode}: ${err}`);
      try {
        this.sock = await new Promise<Socket>((res, rej) => {
          const s = connect(this.ctl, () => res(s));
          s.once('error', rej);
        });
        break;
      } catch {
        if (i > 200) throw new Error(`no virtio console socket ${this.ctl}: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get pid(): number | undefined { return this.qemu?.pid; }

  private async waitForText(re: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.buf);
      if (m) return m;
      if (this.qemu?.exitCode !== null) throw new Error(`qemu exited while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; console tail:\n${this.consoleTail()}\nhvc0 tail:\n${this.buf.slice(-2000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  consoleTail(chars = 3000): string {
    try { return readFileSync(this.consoleLog, 'utf8').slice(-chars); } catch { return ''; }
  }

  /** Waits until the guest's console shell answers; returns the guest's uptime (s) at that moment. */
  async waitForShell(timeoutMs = 600_000): Promise<number> {
    const m = await this.waitForText(/GUEST-CONSOLE-READY ([\d.]+)\n/, timeoutMs, 'the guest console shell');
    this.buf = this.buf.slice(m.index + m[0].length);
    return Number(m[1]);
  }

  /** Runs a shell command line in the guest (as root); output is stdout+stderr. */
  async exec(cmd: string, timeoutMs = 120_000): Promise<ExecResult> {
    if (!this.sock) throw new Error('the guest console is not connected');
    const n = ++this.seq;
    const marker = `__EDGEOS_RC_${n}_`;
    this.buf = '';
    this.sock.write(`{ ${cmd}\n} </dev/null 2>&1; echo "${marker}$?__"\n`);
    const m = await this.waitForText(new RegExp(`${marker}(\\d+)__\\n`), timeoutMs, `guest command: ${cmd.slice(0, 200)}`);
    const out = this.buf.slice(0, m.index);
    this.buf = this.buf.slice(m.index + m[0].length);
    return { code: Number(m[1]), out };
  }

  /** exec that throws on a non-zero exit, with the output in the error. */
  async sh(cmd: string, timeoutMs = 120_000): Promise<string> {
    const r = await this.exec(cmd, timeoutMs);
    if (r.code !== 0) throw new Error(`guest: \`${cmd.slice(0, 300)}\` exited ${r.code}:\n${r.out.slice(-4000)}`);
    return r.out;
  }

  /** `reboot` in the guest; resolves when its console shell is back (qemu resets, same process and disk). */
  async reboot(timeoutMs = 600_000): Promise<number> {
    this.buf = '';
    this.sock!.write('reboot\n');
    this.bootStartedAt = Date.now();
    return await this.waitForShell(timeoutMs);
  }

  /** Powers the guest off and waits for qemu to exit (killing it after the timeout). */
  async stop(timeoutMs = 60_000): Promise<void> {
    const q = this.qemu;
    if (!q || q.exitCode !== null || q.signalCode !== null) return;
    const exited = new Promise<void>((r) => q.once('exit', () => r()));
    try { this.sock?.write('poweroff -f\n'); } catch { /* the socket may be gone */ }
    const t = setTimeout(() => { if (q.pid && q.exitCode === null) process.kill(q.pid, 'SIGKILL'); }, timeoutMs);
    await exited;
    clearTimeout(t);
    this.sock?.destroy();
  }
}
