// installer/install.sh end to end, in fresh root file systems (test/installer/fresh-roots.ts): a
// server and a device installed by the real installer from the real single executable, started
// exactly as the written systemd unit says (no init system runs on these machines), Ready in the
// real kubectl, each running a pod, then uninstalled; afterwards nothing may be left: no files in
// the overlays' upper dirs but the directories listed below, no processes, no mounts, no bridges,
// network namespaces or iptables rules.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSea } from '../build/sea-harness.ts';
import { HOST_CLAIMS_DIR, freshRoots, listTree, runSync } from './fresh-roots.ts';
import type { FreshRoots } from './fresh-roots.ts';
import { installScript } from './installer-harness.ts';

const kubectl = process.env.EDGEOS_TEST_KUBECTL ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
const missing = ['unshare', 'nsenter', 'chroot', 'ip', 'iptables-save', 'containerd', 'runc']
  .filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0)
  .concat(existsSync(kubectl) ? [] : [kubectl]);
const isRoot = process.getuid?.() === 0;

/** systemd's PATH for services (systemd.exec(5), "Environment variables in spawned processes"). */
const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const INSTALL_PATH = SERVICE_PATH;
/** The bridge an agent makes for its data dir (src/runtime/config.ts). */
const bridgeOf = (dataDir: string) => `eos${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as { port: number };
  await new Promise((ok) => s.close(ok));
  return port;
}

/** The service a unit file describes: ExecStart's argv and the EnvironmentFile it reads. */
function parseUnit(text: string): { argv: string[]; envFile: string } {
  const value = (key: string) => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
    if (!m) throw new Error(`the unit has no ${key}=`);
    return m[1]!.trim();
  };
  return { argv: value('ExecStart').split(/\s+/), envFile: value('EnvironmentFile').replace(/^-/, '') };
}

/** systemd's EnvironmentFile=: KEY=value lines, '#' comments, single or double quotes stripped. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  return env;
}

describe.runIf(process.arch === 'x64' && isRoot && missing.length === 0)('install.sh end to end in fresh roots (server + joined device)', () => {
  let tmp: string;
  let sea: string;
  let roots: FreshRoots | undefined;
  const services: ChildProcess[] = [];
  const logs: Record<string, string> = {};
  const id = randomBytes(3).toString('hex');
  // Distinct data dirs: the two roots share one kernel, and an agent's bridge is named after its
  // data dir (two hosts could both use /var/lib/edgeos). They are host directories that every
  // root sees at the same path (see fresh-roots.ts), set in beforeAll.
  const node = { server: { dataDir: '' }, device: { dataDir: '', name: `e2e-device-${id}` } };
  /** Our agents' pod CIDR claims in the host's claims dir: file name (the CIDR) → data dir. */
  const readOwner = (file: string) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return ''; // released while we looked
    }
  };
  // Another install's uninstall (the offline bundle test runs in parallel) removes the claims dir
  // once it is empty; then there are no claims of ours either.
  const ourClaims = () =>
    (existsSync(HOST_CLAIMS_DIR) ? readdirSync(HOST_CLAIMS_DIR) : [])
      .map((f) => [f, readOwner(join(HOST_CLAIMS_DIR, f))] as const)
      .filter(([, owner]) => owner === node.server.dataDir || owner === node.device.dataDir);
  let uninstalled = false;

  const inRoot = (name: string, argv: string[], env: Record<string, string> = { PATH: SERVICE_PATH }, input?: string) =>
    runSync(roots!.chrootArgv(name, env, argv), 60_000, input);
  // kubectl with the kubeconfig the server wrote to /etc/edgeos in its root. It runs outside the
  // root (same network), with its cache in the test's temp dir rather than in the root's upper dir.
  const kubectlIn = (args: string[], input?: string) =>
    runSync(['env', `HOME=${tmp}`, kubectl, '--kubeconfig', join(roots!.merged('server'), 'etc/edgeos/kubeconfig.yaml'), ...args], 60_000, input);

  /** Starts a root's service the way systemd would: its unit's ExecStart with its EnvironmentFile. */
  function startService(name: string): ChildProcess {
    const unit = readFileSync(join(roots!.merged(name), 'etc/systemd/system/edgeos.service'), 'utf8');
    const { argv, envFile } = parseUnit(unit);
    const env = { PATH: SERVICE_PATH, ...parseEnvFile(readFileSync(join(roots!.merged(name), envFile), 'utf8')) };
    const [file, ...args] = roots!.chrootArgv(name, env, argv);
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    logs[name] = '';
    child.stdout!.on('data', (d: Buffer) => (logs[name] += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs[name] += d.toString()));
    services.push(child);
    return child;
  }

  async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- server log:\n${logs.server?.slice(-3000)}\n--- device log:\n${logs.device?.slice(-3000)}`);
      await new Promise((ok) => setTimeout(ok, 500));
    }
  }

  const nodeReady = (n: string) => () => {
    const r = kubectlIn(['get', 'node', n, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return r.status === 0 && r.stdout === 'True' ? true : undefined;
  };

  beforeAll(async () => {
    // The binary must exist before the overlays are mounted: it is read through their lower layer.
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-install-e2e-'));
    sea = sharedSea(join(tmp, 'dist'), 'amd64');
    const data = join(tmp, 'data');
    node.server.dataDir = join(data, 'server');
    node.device.dataDir = join(data, 'device');
    mkdirSync(data);
    roots = await freshRoots(join(tmp, 'ns'), ['server', 'device', 'nolibs'], [data]);
  });

  afterAll(() => {
    try {
      // A failed test may leave edgeos running: the killall script is the tool for that.
      if (roots && !uninstalled) {
        for (const n of ['device', 'server']) {
          if (existsSync(join(roots.merged(n), 'usr/local/bin/edgeos-killall.sh'))) inRoot(n, ['/usr/local/bin/edgeos-killall.sh']);
        }
      }
      for (const c of services) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const pid of roots?.processes() ?? []) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    } finally {
      roots?.close(); // drops every mount in the namespace
      if (tmp) {
        for (const n of Object.values(node)) spawnSync('ip', ['link', 'delete', bridgeOf(n.dataDir)], { stdio: 'ignore' });
        for (const [f] of ourClaims()) rmSync(join(HOST_CLAIMS_DIR, f), { force: true });
      }
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('installs, starts as the unit says, joins, runs pods, and uninstalls without a trace', async () => {
    const r = roots!;
    const mountsBefore = r.mounts();
    const port = await freePort();

    // --- server -----------------------------------------------------------------------------
    const server = inRoot('server', ['/bin/sh', installScript], {
      PATH: INSTALL_PATH,
      EDGEOS_INIT: 'systemd', // systemd is not running in the root: unit written and enabled, not started
      EDGEOS_BINARY: sea,
      EDGEOS_DATA_DIR: node.server.dataDir,
      EDGEOS_BIND_ADDRESS: '127.0.0.1',
      EDGEOS_ADVERTISE_ADDRESS: '127.0.0.1',
      EDGEOS_HTTPS_LISTEN_PORT: String(port),
    });
    expect(server.stderr).toBe('');
    expect(server.status).toBe(0);
    expect(server.stdout).toContain('systemd is not running here: enabling edgeos.service for the next boot');
    const unit = readFileSync(join(r.merged('server'), 'etc/systemd/system/edgeos.service'), 'utf8');
    expect(parseUnit(unit)).toEqual({ argv: ['/usr/local/bin/edgeos', 'server'], envFile: '/etc/edgeos/edgeos.env' });
    expect(readlinkSync(join(r.merged('server'), 'etc/systemd/system/multi-user.target.wants/edgeos.service'))).toBe('/etc/systemd/system/edgeos.service');
    // edgeos reads this file too (the default --config): a key it rejected would stop the start below.
    expect(readFileSync(join(r.merged('server'), 'etc/edgeos/config.yaml'), 'utf8')).toContain(`mode: server\n`);
    // The unit as systemd itself reads it, in the root where it was written (--root from outside, so
    // that systemd-analyze's own files in /run stay out of the root).
    const verify = runSync(['systemd-analyze', 'verify', `--root=${r.merged('server')}`, '/etc/systemd/system/edgeos.service']);
    expect(verify.stderr + verify.stdout).toBe('');
    expect(verify.status).toBe(0);

    // The server's node is named after the host; the device gets its own name.
    startService('server');
    const hostNode = await until('the server to write its kubeconfig and register its node', () => {
      const n = kubectlIn(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']);
      return n.status === 0 && n.stdout ? n.stdout : undefined;
    });
    await until(`node ${hostNode} Ready`, nodeReady(hostNode));

    // --- device: `install.sh join <token>` against the server over loopback ---------------------
    const token = readFileSync(join(r.merged('server'), node.server.dataDir, 'server/token'), 'utf8').trim();
    const device = inRoot('device', ['/bin/sh', installScript, 'join', token], {
      PATH: INSTALL_PATH,
      EDGEOS_INIT: 'systemd',
      EDGEOS_BINARY: sea,
      EDGEOS_DATA_DIR: node.device.dataDir,
      EDGEOS_NODE_NAME: node.device.name,
    });
    expect(device.stderr).toBe('');
    expect(device.status).toBe(0);
    const deviceUnit = parseUnit(readFileSync(join(r.merged('device'), 'etc/systemd/system/edgeos.service'), 'utf8'));
    expect(deviceUnit.argv).toEqual(['/usr/local/bin/edgeos', 'agent']);
    expect(readFileSync(join(r.merged('device'), 'etc/edgeos/config.yaml'), 'utf8')).not.toContain(token);
    startService('device'); // joins with EDGEOS_TOKEN from the env file, then runs the agent
    await until(`node ${node.device.name} Ready`, nodeReady(node.device.name));
    expect(kubectlIn(['get', 'nodes']).stdout).toMatch(new RegExp(`${node.device.name}\\s+Ready`));

    // --- a pod on each node, so that each agent's bridge, veths and netns exist ------------------
    for (const n of [hostNode, node.device.name]) {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${n}`, namespace: 'default' }, spec: { nodeName: n, containers: [{ name: 'c', image: 'edgeos.local/pause:1', imagePullPolicy: 'Never' }] } };
      const applied = kubectlIn(['apply', '-f', '-'], JSON.stringify(pod));
      expect(applied.stderr).toBe('');
      expect(applied.status).toBe(0);
    }
    await until('both pods Running', () => {
      const p = kubectlIn(['get', 'pods', '-o', 'jsonpath={.items[*].status.phase}']);
      return p.stdout === 'Running Running' ? true : undefined;
    });
    for (const n of Object.values(node)) expect(runSync(['ip', 'link', 'show', bridgeOf(n.dataDir)]).status).toBe(0);
    // Two agents on one host: their claims keep their pod CIDRs apart (file name = CIDR).
    const claims = ourClaims();
    expect(claims.map(([, owner]) => owner).sort()).toEqual([node.server.dataDir, node.device.dataDir].sort());
    expect(new Set(claims.map(([cidr]) => cidr)).size).toBe(2);

    // --- uninstall both -------------------------------------------------------------------------
    const started = services.map((c) => c.pid!);
    for (const n of ['device', 'server']) {
      const u = inRoot(n, ['/usr/local/bin/edgeos-uninstall.sh']);
      expect(u.status, u.stdout + u.stderr).toBe(0);
      expect(u.stdout).toContain('[edgeos-uninstall] done');
      expect(u.stdout).toMatch(/deleting bridge eos/);
    }
    uninstalled = true;
    await until('the services to exit', () => (services.every((c) => c.exitCode !== null || c.signalCode !== null) ? true : undefined), 15_000);

    // Nothing runs: not the services by PID, nor anything else in the roots' namespace.
    for (const pid of started) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(r.processes()).toEqual([]);
    // No mounts: the table is what the test itself set up (no data dir mounts, no netns, no shm).
    expect(r.mounts()).toEqual(mountsBefore);
    // No bridges, veths on them, or iptables rules of either CNI network.
    const links = runSync(['ip', '-o', 'link']).stdout;
    const rules = runSync(['iptables-save']).stdout;
    for (const n of Object.values(node)) {
      expect(links).not.toContain(bridgeOf(n.dataDir));
      expect(rules).not.toContain(`edgeos-${bridgeOf(n.dataDir)}`);
    }
    // The shared /run keeps only empty directories any host has once it ran a containerd (the
    // shim socket dir), CNI (the netns dir) and umount (libmount's utab dir): no sockets or netns
    // files. The claims dir is the host's (other agents' claims stay); ours are gone from it.
    expect(listTree(r.run()).filter((p) => !/^edgeos\/./.test(p))).toEqual(['containerd/', 'containerd/s/', 'edgeos/', 'mount/', 'netns/']);
    expect(ourClaims()).toEqual([]);
    expect(readdirSync(join(tmp, 'data'))).toEqual([]); // both data dirs are gone
    // The upper dirs hold directories only: ones the host root has too, copied up because a file
    // was written (and later removed) in them, plus CNI's cache dir, which stays as on any host.
    const copiedUp = ['etc/', 'etc/systemd/', 'etc/systemd/system/', 'tmp/', 'usr/', 'usr/local/', 'usr/local/bin/'];
    // Uninstall removes multi-user.target.wants only if edgeos's link was all it held.
    if (existsSync('/etc/systemd/system/multi-user.target.wants')) copiedUp.push('etc/systemd/system/multi-user.target.wants/');
    const cniCache = ['var/', 'var/lib/', 'var/lib/cni/', 'var/lib/cni/results/'];
    expect(listTree(r.upper('server'))).toEqual([...copiedUp, ...cniCache].sort());
    expect(listTree(r.upper('device'))).toEqual([...copiedUp, ...cniCache].sort());
  }, 180_000);

  it('refuses a system whose loader cannot find the executable\'s libraries, naming them, before writing anything', () => {
    // A root made without apt (debootstrap/mmdebstrap --variant=essential, many embedded images)
    // has no libstdc++: the executable would install, then fail at every start of the service.
    const r = roots!;
    const lib = /libstdc\+\+\.so\.6 => (\S+)/.exec(runSync(['ldd', sea]).stdout)?.[1];
    expect(lib).toBeDefined();
    const real = runSync(['readlink', '-f', lib!]).stdout.trim();
    inRoot('nolibs', ['rm', '-f', lib!, real]);
    const before = listTree(r.upper('nolibs'));
    const install = inRoot('nolibs', ['/bin/sh', installScript, 'join', 'edgeos1.unused'], { PATH: INSTALL_PATH, EDGEOS_INIT: 'none', EDGEOS_BINARY: sea });
    expect(install.status).not.toBe(0);
    expect(install.stderr).toContain('edgeos cannot run on this system, its loader finds no libstdc++.so.6: it needs glibc >= 2.34, libstdc++6 and libgcc-s1');
    // Only the temp dir's copy-up may appear: no binary, no configuration, no service.
    expect(listTree(r.upper('nolibs')).filter((p) => !before.includes(p) && p !== 'tmp/')).toEqual([]);
  });
});
