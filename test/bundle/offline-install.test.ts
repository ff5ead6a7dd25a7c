// The air-gapped install, end to end: `edgeos bundle create` (run from a freshly built single
// executable, so the embedded install.sh is the one shipped) → unpack on a machine with no network
// route at all and no containerd/runc/CNI (deleted from its root) → install.sh → start the service
// the way the unit would → the node is Ready, the bundled image was imported at first start and a
// pod runs it, the bundled manifest was applied, the Service table was programmed with the bundle's
// nft (the host's nft, conntrack and their libraries deleted too) → uninstall leaves nothing behind.
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { cleanEnv, sharedSea } from '../build/sea-harness.ts';
import { FreshRoot, freshRootUnavailable } from './fresh-root.ts';
import type { Result } from './fresh-root.ts';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
const IMAGE = 'edgeos.test/busybox:bundle';
/**
 * Not the default: edgeos-killall.sh recognises containerd and its shims by the data dir in their
 * command line, which other namespaces' processes show too, so the installer end-to-end test
 * (another fresh root on the same kernel, default data dir) and this one must not share it.
 */
const DATA_DIR = '/var/lib/edgeos-airgap';
/** What a bundle installs outside the data dir; the test hides the host's copies of all of them. */
const HIDDEN = ['/usr/bin/containerd', '/usr/bin/containerd-shim', '/usr/bin/containerd-shim-runc-v1', '/usr/bin/containerd-shim-runc-v2',
  '/usr/bin/ctr', '/usr/sbin/runc', '/usr/bin/runc', '/usr/lib/cni',
  // nft and conntrack with their own libraries (the bundle's copies must be the ones that run), and
  // runc's libseccomp (a Yocto or Buildroot device has none; the bundle's runc must bring it).
  '/usr/sbin/nft', '/usr/sbin/conntrack', '/usr/sbin/ethtool', '/usr/lib/x86_64-linux-gnu/libnftables.so.1*', '/usr/lib/x86_64-linux-gnu/libnetfilter_conntrack.so.3*',
  '/usr/lib/x86_64-linux-gnu/libseccomp.so.2*'];

const unavailable = process.arch !== 'x64' ? 'the bundle is built from this host\'s amd64 packages' : freshRootUnavailable();

function ok(r: Result, what: string): Result {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.skipIf(unavailable !== undefined)(`air-gapped install from the bundle${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let tmp: string;
  let machine: FreshRoot | undefined;
  let server: ChildProcess | undefined;
  let serverLog = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-bundle-offline-'));
    machine = await FreshRoot.create('edgeos-bundle-offline');
  });

  afterAll(async () => {
    if (server?.pid && server.exitCode === null && server.signalCode === null) process.kill(server.pid, 'SIGKILL');
    await machine?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const kubectl = (args: string[], input?: string) =>
    machine!.run([KUBECTL, '--kubeconfig', '/etc/edgeos/kubeconfig.yaml', '--request-timeout=20s', ...args], { ...(input ? { input } : {}) });

  it('installs and runs with nothing but the bundle, then uninstalls without a trace', async () => {
    const m = machine!;
    const t0 = Date.now();
    const lap = (what: string) => console.log(`[offline-install] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // 1. The bundle, made by the single executable (embedded install.sh, binary beside it).
    const exe = sharedSea(join(tmp, 'out'), 'amd64');
    const image = writeBusyboxArchive(join(tmp, 'busybox.tar'), IMAGE, ['sh', '-c', 'echo bundled-image-ok; exec sleep 3600']);
    const bundle = join(tmp, 'edgeos-bundle.tar.gz');
    const manifest = join(tmp, 'site.yaml');
    writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: site, namespace: kube-system }\ndata: { shop: "42" }\n');
    const created = spawnSync(exe, ['bundle', 'create', '--arch', 'amd64', '--image', image, '--manifest', manifest, '--output', bundle], { cwd: tmp, env: cleanEnv(), encoding: 'utf8', timeout: 180_000 });
    expect(created.status, created.stderr).toBe(0);
    lap('bundle created');

    // 2. The machine: no route anywhere, and no container runtime of its own.
    expect(ok(await m.run(['ip', '-4', 'route', 'show', 'table', 'all']), 'ip route').stdout.replace(/^(local|broadcast) .*\n/gm, '')).toBe('');
    const unreachable = await m.run(['ip', 'route', 'get', '1.1.1.1']);
    expect(unreachable.status).not.toBe(0);
    expect(unreachable.stderr).toMatch(/unreachable/i);
    ok(await m.outside(['sh', '-c', `cd ${m.root} && rm -rf ${HIDDEN.map((p) => `.${p}`).join(' ')}`]), 'hide the runtime');
    for (const c of ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2', 'nft', 'conntrack', 'ethtool']) expect((await m.run(['sh', '-c', `command -v ${c}`])).status).not.toBe(0);
    const baseline = await listState(m);
    ok(await m.outside(['cp', bundle, join(m.root, 'tmp/edgeos-bundle.tar.gz')]), 'copy the bundle in');

    // 3. Unpack and install, as a person would.
    ok(await m.run(['tar', '-xzf', '/tmp/edgeos-bundle.tar.gz', '-C', '/tmp']), 'unpack');
    const install = ok(await m.run(['/tmp/edgeos-bundle/install.sh'], { env: { EDGEOS_INIT: 'none', EDGEOS_DATA_DIR: DATA_DIR }, timeoutMs: 120_000 }), 'install.sh');
    expect(install.stdout).toContain('air-gapped bundle: /tmp/edgeos-bundle (no network is used)');
    expect(install.stdout).toContain('installed /usr/local/bin/containerd from the bundle');
    expect(install.stdout).toContain('installed /usr/local/bin/runc from the bundle');
    expect(ok(await m.run(['runc', '--version']), 'the bundled runc, with the bundled libseccomp').stdout).toMatch(/^libseccomp: \d/m);
    expect(install.stdout).toContain('installed /usr/lib/cni/bridge from the bundle');
    expect(install.stdout).toContain('installed /usr/local/bin/nft from the bundle (libraries in /usr/local/lib/edgeos/lib)');
    expect(install.stdout).toContain('installed /usr/local/bin/conntrack from the bundle');
    expect(ok(await m.run(['conntrack', '--version']), 'the bundled conntrack').stdout).toMatch(/conntrack v\d/);
    expect(install.stdout).toContain('installed /usr/local/bin/ethtool from the bundle');
    expect(ok(await m.run(['ethtool', '--version']), 'the bundled ethtool').stdout).toMatch(/ethtool version \d/);
    expect(install.stdout).toContain(`copying image busybox.tar to ${DATA_DIR}/agent/images`);
    expect(install.stdout).toContain(`copying manifest site.yaml to ${DATA_DIR}/server/manifests`);
    lap('installed');

    // 4. Start it the way the unit does: the environment file, then `edgeos server`.
    server = m.start(['/bin/sh', '-c', 'set -a; . /etc/edgeos/edgeos.env; set +a; exec /usr/local/bin/edgeos server']);
    server.stdout!.on('data', (d: Buffer) => { serverLog = (serverLog + d.toString()).slice(-20_000); });
    server.stderr!.on('data', (d: Buffer) => { serverLog = (serverLog + d.toString()).slice(-20_000); });
    try {
      await until('the node to be Ready', 120_000, async () => {
        if (server!.exitCode !== null) throw new Error(`edgeos server exited ${server!.exitCode}:\n${serverLog}`);
        const r = await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']);
        return r.status === 0 && r.stdout.trim() === 'True' ? true : undefined;
      });
      lap('node Ready');
      // The Service datapath was programmed with the bundled nft.
      await until('the Service table', 30_000, async () => {
        const r = await m.run(['nft', 'list', 'tables']);
        return r.status === 0 && /table ip edgeos-[0-9a-f]{8}/.test(r.stdout) ? true : undefined;
      });

      // 5. The images were imported at first start, into the containerd CRI uses.
      const images = ok(await m.run(['ctr', '--address', `${DATA_DIR}/agent/containerd/containerd.sock`, '--namespace', 'k8s.io', 'images', 'list', '--quiet']), 'ctr images list');
      expect(images.stdout.split('\n')).toEqual(expect.arrayContaining([IMAGE, 'edgeos.local/pause:1']));
      expect(serverLog).toMatch(/imported image archive.*busybox\.tar|busybox\.tar.*imported image archive/);

      // The bundled manifest was applied at the first start, with the server's own.
      await until('the bundled manifest', 30_000, async () => {
        const r = await kubectl(['get', 'configmap', 'site', '-n', 'kube-system', '-o', 'jsonpath={.data.shop}']);
        return r.status === 0 && r.stdout === '42' ? true : undefined;
      });
      expect(ok(await kubectl(['get', 'storageclass', 'local-path', '-o', 'name']), 'the default StorageClass').stdout.trim()).toBe('storageclass.storage.k8s.io/local-path');

      // 6. A pod from the bundled image runs, never pulled (there is nothing to pull from).
      ok(await kubectl(['apply', '-f', '-'], podManifest()), 'create the pod');
      ok(await kubectl(['wait', '--for=condition=Ready', 'pod/bundled', '--timeout=90s']), 'pod Ready');
      expect(ok(await kubectl(['logs', 'bundled']), 'logs').stdout).toContain('bundled-image-ok');
      lap('pod running');
      ok(await kubectl(['delete', 'pod', 'bundled', '--wait', '--timeout=60s']), 'delete the pod');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- edgeos server log (tail) ---\n${serverLog.slice(-6000)}`, { cause: err });
    }

    // 7. Uninstall: everything edgeos and the bundle put on the machine goes away.
    const exited = new Promise((r) => server!.once('exit', r));
    const uninstall = ok(await m.run(['/usr/local/bin/edgeos-uninstall.sh'], { timeoutMs: 60_000 }), 'uninstall');
    expect(uninstall.stdout).toContain('removing the container runtime installed from the bundle');
    await exited;
    expect(m.processes()).toEqual([]);
    const after = await listState(m);
    const leftovers = [...after].filter(([p, type]) => baseline.get(p) !== type && !(type === 'd' && isCopiedUpDir(p)) && !containerdLoopbackLeak(p));
    const vanished = [...baseline].filter(([p]) => !after.has(p));
    expect({ leftovers, vanished }).toEqual({ leftovers: [], vanished: [] });
    lap('uninstalled');
  }, 420_000);
});

function podManifest(): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bundled' },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never' }],
    },
  });
}

/**
 * What the machine holds beyond the host's root: every entry of the overlay's upper layer (files
 * written, whiteouts of deletions as type c) and everything in the /run and /var/lib tmpfs mounts,
 * each with its type (find's %y).
 */
async function listState(m: FreshRoot): Promise<Map<string, string>> {
  const r = await m.outside(['sh', '-c', `cd ${m.upper} && find . -mindepth 1 -printf 'upper %y %p\\n'; cd ${m.root} && find run var/lib -mindepth 1 -printf 'tmpfs %y %p\\n'`]);
  if (r.status !== 0) throw new Error(`list the machine's state: ${r.stderr}`);
  return new Map(r.stdout.split('\n').filter(Boolean).map((l) => {
    const [where, type, path] = l.split(' ');
    return [`${where}:${path!.replace(/^\.\//, '/')}`, type!] as [string, string];
  }));
}

/**
 * containerd 1.6's CRI leaves the CNI cache entry of each sandbox's loopback network behind after
 * the sandbox is torn down (/var/lib/cni/results/cni-loopback-<sandbox id>-lo; the host running
 * these tests collects one per pod from every suite). It happens with any containerd 1.6 install,
 * not only the bundle's, and cannot be told apart from another CNI user's entry by the uninstaller.
 */
function containerdLoopbackLeak(key: string): boolean {
  return /^tmpfs:var\/lib\/cni(\/results(\/cni-loopback-[0-9a-f]{64}-lo)?)?$/.test(key);
}

/** Writing into a host directory copies that directory up into the upper layer; it stays there. */
function isCopiedUpDir(key: string): boolean {
  if (!key.startsWith('upper:')) return false;
  const r = spawnSync('test', ['-d', key.slice('upper:'.length)]);
  return r.status === 0;
}
