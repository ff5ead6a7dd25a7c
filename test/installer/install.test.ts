// installer/install.sh, run into a temporary EDGEOS_ROOT (nothing on the host is touched or started).
// Starting the installed services, Ready nodes and a clean uninstall: install-e2e.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSea } from '../build/sea-harness.ts';
import { install, installScript, runAsync, serveDir } from './installer-harness.ts';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function withChecksum(file: string): string {
  writeFileSync(`${file}.sha256`, `${sha256(file)}  ${file.split('/').pop()}\n`);
  return file;
}

function shellcheck(...files: string[]): void {
  const r = spawnSync('shellcheck', files, { encoding: 'utf8' });
  if (r.error) throw new Error('shellcheck is not installed: apt-get install shellcheck');
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}

describe.runIf(process.arch === 'x64')('installer/install.sh', () => {
  let tmp: string;
  let sea: string; // the real edgeos executable
  let small: string; // a small x86-64 ELF (a copy of true) for tests that do not run edgeos
  let other: string; // another small ELF: an "upgrade"
  let n = 0;
  const newRoot = () => { const d = join(tmp, `root-${++n}`); mkdirSync(d); return d; };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-installer-'));
    sea = sharedSea(join(tmp, 'dist'), 'amd64');
    small = join(tmp, 'small');
    copyFileSync('/bin/true', small);
    withChecksum(small);
    other = join(tmp, 'other');
    copyFileSync('/bin/sleep', other);
    withChecksum(other);
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('passes shellcheck', () => {
    shellcheck(installScript);
  });

  it('installs a server from a local binary, saying what it does, with config and a 0600 env file', async () => {
    const r0 = newRoot();
    const r = await install({
      EDGEOS_ROOT: r0, EDGEOS_INIT: 'systemd', EDGEOS_BINARY: sea,
      EDGEOS_DATA_DIR: '/srv/edgeos', EDGEOS_HTTPS_LISTEN_PORT: '7443', EDGEOS_DISABLE_AGENT: 'true',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const line of ['mode: server', 'architecture: amd64', 'init system: systemd', `SHA-256 verified: ${sha256(sea)}`, 'installing ', 'checking the settings against `edgeos server --help`', 'writing ']) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toMatch(/installed: edgeos v\d+\.\d+\.\d+ \(commit \w+, node v24\.\d+\.\d+, linux\/amd64\)/);
    expect(r.stdout).toContain('not enabling or starting the service');

    const bin = join(r0, 'usr/local/bin/edgeos');
    expect(sha256(bin)).toBe(sha256(sea));
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    const env = join(r0, 'etc/edgeos/edgeos.env');
    expect(statSync(env).mode & 0o777).toBe(0o600);
    const envText = readFileSync(env, 'utf8');
    expect(envText).toContain("EDGEOS_DATA_DIR='/srv/edgeos'\n");
    expect(envText).toContain("EDGEOS_HTTPS_LISTEN_PORT='7443'\n");
    expect(envText).toContain("EDGEOS_DISABLE_AGENT='true'\n");
    expect(envText).not.toContain('EDGEOS_BINARY'); // installer-only variables stay out
    expect(envText).not.toContain('EDGEOS_ROOT');
    const config = readFileSync(join(r0, 'etc/edgeos/config.yaml'), 'utf8');
    expect(config).toContain('mode: server\n');
    expect(config).toContain('data-dir: "/srv/edgeos"\n');
    expect(config).toContain('https-listen-port: "7443"\n');
    expect(config).toContain('disable-agent: true\n'); // a boolean, as edgeos expects for the flag

    const unit = readFileSync(join(r0, 'etc/systemd/system/edgeos.service'), 'utf8');
    expect(unit).toContain('ExecStart=/usr/local/bin/edgeos server\n');
    for (const key of ['Delegate=yes', 'KillMode=process', 'Restart=always', 'EnvironmentFile=-/etc/edgeos/edgeos.env']) expect(unit).toContain(key);
    shellcheck(join(r0, 'usr/local/bin/edgeos-killall.sh'), join(r0, 'usr/local/bin/edgeos-uninstall.sh'));
  });

  it('writes a systemd unit that systemd-analyze verify accepts', async (ctx) => {
    if (!existsSync('/usr/bin/systemd-analyze')) ctx.skip('systemd-analyze missing: apt-get install systemd');
    const r0 = newRoot();
    expect((await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'systemd', EDGEOS_BINARY: small })).status).toBe(0);
    // verify resolves dependencies (sysinit.target, …) and ExecStart inside --root: give it the host's units.
    cpSync('/lib/systemd/system', join(r0, 'usr/lib/systemd/system'), { recursive: true });
    const v = spawnSync('systemd-analyze', ['verify', `--root=${r0}`, '/etc/systemd/system/edgeos.service'], { encoding: 'utf8' });
    // verify exits 0 on mere warnings ("Invalid controller name …, ignoring"): require silence too.
    expect(v.stderr + v.stdout).toBe('');
    expect(v.status).toBe(0);
  });

  it('installs a device with `join <token>`: agent service, token only in the env file (OpenRC)', async () => {
    const r0 = newRoot();
    const r = await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'openrc', EDGEOS_BINARY: small, EDGEOS_NODE_NAME: 'edge-1' }, ['join', 'K10abc::secret']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('mode: device');
    expect(readFileSync(join(r0, 'etc/edgeos/edgeos.env'), 'utf8')).toContain("EDGEOS_TOKEN='K10abc::secret'\n");
    const config = readFileSync(join(r0, 'etc/edgeos/config.yaml'), 'utf8');
    expect(config).toContain('mode: device\n');
    expect(config).toContain('node-name: "edge-1"\n');
    expect(config).not.toContain('K10abc'); // secrets only in the 0600 file
    const rc = join(r0, 'etc/init.d/edgeos');
    expect(readFileSync(rc, 'utf8')).toContain('command_args="agent"');
    expect(statSync(rc).mode & 0o111).toBe(0o111);
    shellcheck(rc);
    expect(existsSync(join(r0, 'etc/systemd'))).toBe(false);
  });

  it('copies the manifests of EDGEOS_MANIFESTS into the server\'s manifests folder, not onto a device', async () => {
    const src = join(tmp, 'manifests');
    mkdirSync(src);
    writeFileSync(join(src, 'app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: app }\n');
    writeFileSync(join(src, 'README.md'), 'not a manifest');
    const r0 = newRoot();
    const r = await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'none', EDGEOS_BINARY: small, EDGEOS_DATA_DIR: '/srv/e', EDGEOS_MANIFESTS: src });
    expect(r.status).toBe(0);
    const folder = join(r0, 'srv/e/server/manifests');
    expect(readFileSync(join(folder, 'app.yaml'), 'utf8')).toContain('name: app');
    expect(existsSync(join(folder, 'README.md'))).toBe(false);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(r.stdout).toContain(`copying manifest app.yaml to ${folder}`);
    // The installer's own variable is no setting of edgeos: it stays out of the service's files.
    expect(readFileSync(join(r0, 'etc/edgeos/edgeos.env'), 'utf8')).not.toContain('EDGEOS_MANIFESTS');
    const again = await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'none', EDGEOS_BINARY: small, EDGEOS_DATA_DIR: '/srv/e', EDGEOS_MANIFESTS: src });
    expect(again.stdout).toContain(`manifest app.yaml is already in ${folder}`);
    const device = newRoot();
    const d = await install({ EDGEOS_ROOT: device, EDGEOS_INIT: 'none', EDGEOS_BINARY: small, EDGEOS_MANIFESTS: src }, ['join', 'K10abc::secret']);
    expect(d.status).toBe(0);
    expect(d.stdout).toContain('not copying manifest app.yaml: only a server applies manifests');
    expect(existsSync(join(device, 'var/lib/edgeos/server'))).toBe(false);
  });

  it('refuses a setting the service command has no flag for, before writing anything', async () => {
    const r0 = newRoot();
    // A typo, and a flag of another command (`edgeos join` has --node-name; the server has not).
    for (const [name, flag] of [['EDGEOS_DATA_DIRR', 'data-dirr'], ['EDGEOS_NODE_NAME', 'node-name']] as const) {
      const r = await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'none', EDGEOS_BINARY: sea, [name]: 'x' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`${name} is not a setting of \`edgeos server\` (it has no --${flag} flag; see \`edgeos server --help\`): unset it`);
      expect(existsSync(join(r0, 'etc/edgeos/edgeos.env'))).toBe(false);
    }
  });

  it.each([
    [['join'], 'usage: install.sh join <token>'],
    [['frobnicate'], "unknown argument 'frobnicate'"],
  ])('rejects %j', async (args, message) => {
    const r = await install({ EDGEOS_ROOT: newRoot(), EDGEOS_BINARY: small }, args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('downloads from EDGEOS_URL and verifies it against <URL>.sha256 (loopback HTTP)', async () => {
    const srv = await serveDir(join(tmp, 'dist'));
    try {
      const r0 = newRoot();
      const r = await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'none', EDGEOS_URL: `${srv.url}/edgeos-linux-amd64` });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(srv.requests).toEqual(['edgeos-linux-amd64', 'edgeos-linux-amd64.sha256']);
      expect(sha256(join(r0, 'usr/local/bin/edgeos'))).toBe(sha256(sea));
      expect(r.stdout).toContain('no systemd or OpenRC here');
    } finally {
      srv.server.close();
    }
  });

  it('refuses a download whose SHA-256 does not match, installing nothing', async () => {
    const dir = join(tmp, 'served-bad');
    mkdirSync(dir);
    copyFileSync(small, join(dir, 'edgeos-linux-amd64'));
    writeFileSync(join(dir, 'edgeos-linux-amd64.sha256'), `${'0'.repeat(64)}  edgeos-linux-amd64\n`);
    const srv = await serveDir(dir);
    try {
      const r0 = newRoot();
      const r = await install({ EDGEOS_ROOT: r0, EDGEOS_URL: `${srv.url}/edgeos-linux-amd64` });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('SHA-256 mismatch');
      expect(existsSync(join(r0, 'usr/local/bin/edgeos'))).toBe(false);
      // A binary published without a checksum, and none given: refuse as well.
      copyFileSync(small, join(dir, 'unsummed'));
      const r2 = await install({ EDGEOS_ROOT: r0, EDGEOS_URL: `${srv.url}/unsummed` });
      expect(r2.status).not.toBe(0);
      expect(r2.stderr).toContain('no checksum at');
      expect(existsSync(join(r0, 'usr/local/bin/edgeos'))).toBe(false);
    } finally {
      srv.server.close();
    }
  });

  it('installs from an unpacked bundle (binary and .sha256 beside install.sh) and checks it', async () => {
    const bundle = join(tmp, 'bundle');
    mkdirSync(bundle);
    copyFileSync(installScript, join(bundle, 'install.sh'));
    copyFileSync(small, join(bundle, 'edgeos-linux-amd64'));
    withChecksum(join(bundle, 'edgeos-linux-amd64'));
    const r0 = newRoot();
    const r = await install({ EDGEOS_ROOT: r0, EDGEOS_INIT: 'none' }, [], join(bundle, 'install.sh'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`using bundled binary ${bundle}/edgeos-linux-amd64`);
    writeFileSync(join(bundle, 'edgeos-linux-amd64'), readFileSync(other)); // the .sha256 no longer matches
    const bad = await install({ EDGEOS_ROOT: newRoot(), EDGEOS_INIT: 'none' }, [], join(bundle, 'install.sh'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('SHA-256 mismatch');
  });

  it('refuses a binary for another architecture', async () => {
    const arm = join(tmp, 'arm-elf');
    const bytes = readFileSync(small);
    bytes.writeUInt16LE(0xb7, 18); // e_machine = aarch64
    writeFileSync(arm, bytes);
    const r = await install({ EDGEOS_ROOT: newRoot(), EDGEOS_BINARY: arm });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('is not a linux/amd64 executable');
  });

  it('upgrades in place while the old binary runs; killall stops it and its descendants; uninstall removes everything', async () => {
    const r0 = newRoot();
    const vars = { EDGEOS_ROOT: r0, EDGEOS_INIT: 'systemd' };
    expect((await install({ ...vars, EDGEOS_BINARY: other })).status).toBe(0); // "edgeos" is sleep here
    const bin = join(r0, 'usr/local/bin/edgeos');
    const dataDir = join(r0, 'var/lib/edgeos');
    mkdirSync(join(r0, 'bin'), { recursive: true });
    // Stand-ins: the installed binary running, a "containerd" (a copy of sh) whose command line names
    // the data dir with a child, and a "containerd" of someone else that must survive.
    const fakeContainerd = join(r0, 'bin/containerd');
    copyFileSync('/bin/sh', fakeContainerd);
    const started = [
      spawn(bin, ['600'], { stdio: 'ignore' }),
      spawn(fakeContainerd, ['-c', 'sleep 600 & wait', `${dataDir}/containerd`], { stdio: 'ignore' }),
    ];
    const bystander = spawn(fakeContainerd, ['-c', 'sleep 600 & wait', '/var/lib/someone-else/containerd'], { stdio: 'ignore' });
    const pids = () => started.map((c) => c.pid!);
    try {
      await new Promise((ok) => setTimeout(ok, 300)); // let sh fork its sleep
      const upgrade = await install({ ...vars, EDGEOS_BINARY: small });
      expect(upgrade.status).toBe(0);
      expect(upgrade.stdout).toContain(`upgrading ${bin} in place`);
      expect(sha256(bin)).toBe(sha256(small));
      const same = await install({ ...vars, EDGEOS_BINARY: small });
      expect(same.stdout).toContain('is already this build: keeping it');

      const child = spawnSync('pgrep', ['-P', String(started[1]!.pid)], { encoding: 'utf8' }).stdout.trim();
      expect(child).toMatch(/^\d+$/);
      const k = await runAsync(join(r0, 'usr/local/bin/edgeos-killall.sh'), [], { PATH: process.env.PATH });
      expect(k.status).toBe(0);
      for (const pid of [...pids(), Number(child)]) expect(k.stdout).toContain(String(pid));
      expect(k.stdout).not.toContain(String(bystander.pid));
      await Promise.all(started.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((ok) => c.once('exit', ok)))));
      expect(existsSync(`/proc/${child}`)).toBe(false);
      expect(bystander.exitCode).toBeNull();

      const u = await runAsync(join(r0, 'usr/local/bin/edgeos-uninstall.sh'), [], { PATH: process.env.PATH });
      expect(u.status).toBe(0);
      for (const gone of ['usr/local/bin/edgeos', 'usr/local/bin/edgeos-killall.sh', 'usr/local/bin/edgeos-uninstall.sh', 'etc/edgeos', 'etc/systemd/system/edgeos.service']) {
        expect(existsSync(join(r0, gone))).toBe(false);
      }
    } finally {
      // Children first (found while their parents still exist), then the parents, all by PID.
      const all = [...started, bystander].map((c) => c.pid!).filter((pid) => existsSync(`/proc/${pid}`));
      const children = all.flatMap((pid) => spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number));
      for (const pid of [...children, ...all]) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
  });
});
