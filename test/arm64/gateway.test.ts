// The arm64 user's path, end to end, on an emulated 512 MB arm64 gateway (test/arm64/guest.ts:
// qemu-system-aarch64 -M virt, TCG, 2 vCPUs; Debian 12 arm64 with sysvinit + OpenRC, built and
// cached by scripts/arm64-guest.sh). On the host: the arm64 executable built as `npm run build --
// --arch arm64` builds it, an arm64 air-gapped bundle made by `edgeos bundle create --arch arm64`
// with a test image built here from Debian's arm64 busybox-static, and an `edgeos server` on the
// loopback. In the guest: the bundle copied in (a read-only disk), `install.sh join <token>`, the
// OpenRC service it writes starting the agent; a Deployment + Service run; kubectl logs/exec/
// port-forward reach the pod through the link; server stopped → pods keep running; guest rebooted
// with the server still down → pods back from the cache; server back → node Ready, statuses
// right; the uninstaller leaves nothing. One test, because every step needs the one before; TCG is
// slow, so it prints how long each step took.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlStream } from '../helpers/kubectl.ts';
import type { KubectlResult } from '../helpers/kubectl.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { stopServerKeepingData } from '../e2e/helpers.ts';
import { Guest, SERVER_ADDRESS_IN_GUEST, guestImage, guestUnavailable } from './guest.ts';
import { UNPACK_BUNDLE, prepareGateway } from './prepare.ts';

/**
 * Runs wherever qemu-system-aarch64 is (scripts/setup.sh --test installs it and builds the guest):
 * the whole path passed as one run in 803 s at load average 10-20 (2026-12-07, docs/arm64.md).
 */
const unavailable = guestUnavailable();
const IMAGE = 'edgeos.test/busybox:arm64';
const NODE = 'edgeos-arm64';
const NS = 'gw';
const REPLICAS = 2;
const POD_CMD = ['sh', '-c', 'echo "arm64-pod-up $(uname -m)"; mkdir -p /www; echo hello-from-arm64 > /www/index.html; exec httpd -f -p 8080 -h /www'];

/**
 * Paths whose contents change by themselves on a running machine, left out of the before/after
 * comparison; /usr/lib/rc/cache is OpenRC's own dependency cache, which it writes at the first boot
 * after any service was added (the reboot of step 8), not a file of edgeos's; /run/udev is the
 * initramfs udev's state on tmpfs (its links/…/.lock files appear when it gets to them).
 */
const VOLATILE = /^\/usr\/lib\/rc\/cache(\/|$)|^\/run\/udev(\/|$)|^\/(proc|sys|dev|tmp|mnt|root\/edgeos-bundle)(\/|$)|^\/var\/log\/(wtmp|btmp|lastlog|dmesg)|^\/run\/(openrc|utmp)|^\/etc\/(mtab|ld\.so\.cache)$|^\/run\/.*\.pid$|^\/var\/lib\/urandom|^\/run\/initctl$/;

function ok(r: KubectlResult, what: string): string {
  if (r.code !== 0) throw new Error(`kubectl ${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${context()}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function httpGet(url: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = get(url, (r) => {
      let b = '';
      r.on('data', (d: Buffer) => (b += d.toString()));
      r.on('end', () => res(b));
    });
    req.on('error', rej);
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
  });
}

/**
 * An HTTP GET from the gateway's shell with bash's /dev/tcp (numeric addresses only): Debian's
 * static busybox wget segfaults there (exit 139; a static glibc loading the guest's NSS modules).
 */
function httpIn(url: string, timeoutS: number): string {
  const u = new URL(url);
  return `timeout ${timeoutS} bash -c 'exec 3<>/dev/tcp/${u.hostname}/${u.port || 80}; printf "GET ${u.pathname} HTTP/1.0\\r\\nHost: ${u.hostname}\\r\\n\\r\\n" >&3; cat <&3'`;
}

interface PodView { name: string; phase: string; ready: boolean; ip: string; node: string; restarts: number }

describe.skipIf(unavailable !== undefined)(`arm64 gateway under qemu-system-aarch64${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let tmp: string;
  let server: RunningServer | undefined;
  let guest: Guest | undefined;
  const timings: Record<string, number> = {};

  afterAll(async () => {
    await guest?.stop();
    if (server && server.exitCode() === null) await server.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs from the arm64 bundle, runs a Deployment + Service, survives server loss and an offline reboot, uninstalls cleanly', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-arm64-gw-'));
    const t0 = Date.now();
    let lapAt = t0;
    const lap = (what: string) => {
      const now = Date.now();
      timings[what] = Math.round((now - lapAt) / 100) / 10;
      lapAt = now;
      console.log(`[arm64-gateway] ${what}: ${timings[what]} s (total ${((now - t0) / 1000).toFixed(0)} s)`);
    };

    // 1. The guest image (cached; scripts/setup.sh --test builds it once), the arm64 executable, its bundle.
    const image = guestImage((s) => console.log(`[arm64-gateway] ${s}`));
    lap('guest image');
    const prepared = prepareGateway({ image, tmp, repoTag: IMAGE, cmd: POD_CMD });
    timings['arm64 executable'] = Math.round(prepared.buildSeconds * 10) / 10;
    const disk = prepared.disk;
    lap('arm64 bundle');

    // 2. The server on the host's loopback; the guest reaches it as 10.0.2.100 (qemu's one forward).
    server = await startServer({ extraArgs: ['--advertise-address', SERVER_ADDRESS_IN_GUEST] });
    const s = server;
    const token = readFileSync(join(s.dir, 'data', 'server', 'token'), 'utf8').trim();
    const k = (args: string[], stdin?: string) => kubectl(s, args, { timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });

    // 3. Boot the gateway.
    guest = await Guest.boot({ image, workDir: join(tmp, 'guest'), serverPort: s.port, transfer: disk, log: (m) => console.log(`[arm64-gateway] ${m}`) });
    const g = guest;
    const uptimeAtShell = await g.waitForShell();
    lap(`guest boot (kernel uptime ${uptimeAtShell} s at the console shell)`);
    expect((await g.sh('uname -m')).trim()).toBe('aarch64');
    expect((await g.sh('free -m | sed -n 2p')).trim()).toMatch(/^Mem:\s+(4[6-9]\d|50\d|51\d)\s/); // 512 MB less the kernel's reservations
    // Nothing of edgeos's runtime is on the gateway before the bundle: it has to bring all of it.
    expect((await g.exec('command -v containerd runc ctr')).out.trim()).toBe('');
    // Nor runc's libseccomp, as on a Yocto or Buildroot device: the bundle brings it too.
    expect((await g.exec('ls /lib/*/libseccomp* /usr/lib/*/libseccomp* /lib/libseccomp* /usr/lib/libseccomp* 2>/dev/null')).out.trim()).toBe('');
    const before = await g.sh('find / -xdev | LC_ALL=C sort; find /run | LC_ALL=C sort', 300_000);

    // 4. The user's path: copy the bundle in, unpack, install.sh join <token>; OpenRC starts the agent.
    await g.sh(`${UNPACK_BUNDLE} && umount /mnt`, 600_000);
    const install = await g.sh(`cd /root/edgeos-bundle && ./install.sh join '${token}'`, 600_000);
    expect(install).toContain('init system: openrc');
    expect(install).toContain('air-gapped bundle');
    expect(install).toContain('rc-service edgeos restart');
    lap('install from the bundle');
    expect(await g.sh('rc-service edgeos status')).toMatch(/started/);
    expect(await g.sh('/usr/local/bin/runc --version')).toMatch(/^libseccomp: \d/m); // the bundle's runc, on the bundle's libseccomp

    const nodeReady = async () => {
      const r = await k(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return r.code === 0 && r.stdout.trim() === 'True';
    };
    const guestLog = () => `edgeos.log tail:\n${'(see guest)'}\nconsole:\n${g.consoleTail(1500)}`;
    await until('the arm64 node to be Ready', 900_000, nodeReady, guestLog);
    lap('agent start → node Ready');
    const nodeInfo = JSON.parse(ok(await k(['get', 'node', NODE, '-o', 'json']), 'get node')) as { status: { nodeInfo: { architecture: string; kernelVersion: string; containerRuntimeVersion: string } } };
    expect(nodeInfo.status.nodeInfo.architecture).toBe('arm64');

    // 5. A Deployment with a Service, from the bundled image (nothing to pull from: imagePullPolicy Never).
    ok(await k(['create', 'namespace', NS]), 'create namespace');
    ok(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS }, spec: {
          replicas: REPLICAS, selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: IMAGE, imagePullPolicy: 'Never', ports: [{ containerPort: 8080 }] }] } } } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
      ],
    })), 'apply');
    const pods = async (): Promise<PodView[]> => {
      const r = await k(['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'json']);
      if (r.code !== 0) return [];
      return (JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean; restartCount: number }[] } }[] }).items.map((p) => ({
        name: p.metadata.name, phase: p.status.phase ?? '', ip: p.status.podIP ?? '', node: p.spec.nodeName ?? '',
        ready: (p.status.containerStatuses ?? []).length > 0 && p.status.containerStatuses!.every((c) => c.ready),
        restarts: (p.status.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
      }));
    };
    const allRunning = async () => {
      const ps = await pods();
      return ps.length === REPLICAS && ps.every((p) => p.phase === 'Running' && p.ready && p.ip !== '') ? ps : undefined;
    };
    const running = await until('the Deployment\'s pods to run on the arm64 node', 600_000, allRunning, guestLog);
    expect(running.every((p) => p.node === NODE)).toBe(true);
    lap('Deployment Running');
    const clusterIp = ok(await k(['get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']), 'get service').trim();
    // The Service from the gateway itself (the agent's nftables datapath), and each pod by its IP.
    expect(await g.sh(httpIn(`http://${clusterIp}/`, 20))).toContain('hello-from-arm64');
    for (const p of running) expect(await g.sh(httpIn(`http://${p.ip}:8080/`, 20))).toContain('hello-from-arm64');

    // 6. kubectl logs / exec / port-forward, through the agent's link.
    const pod = running[0]!.name;
    expect(ok(await k(['logs', '-n', NS, pod]), 'logs')).toContain('arm64-pod-up aarch64');
    expect(ok(await k(['exec', '-n', NS, pod, '--', 'uname', '-m']), 'exec').trim()).toBe('aarch64');
    const pf = kubectlStream(s, ['port-forward', '-n', NS, `pod/${pod}`, ':8080']);
    try {
      const port = await until('port-forward to listen', 120_000, async () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.output())?.[1], () => pf.output());
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toContain('hello-from-arm64');
    } finally {
      await pf.stop();
    }
    lap('kubectl logs/exec/port-forward');

    // 7. Server stopped: the pods keep running and serving.
    await stopServerKeepingData(s);
    const pidsBefore = (await g.sh('pgrep -f "httpd -f -p 8080" | sort')).trim();
    expect(pidsBefore.split('\n')).toHaveLength(REPLICAS);
    await new Promise((r) => setTimeout(r, 20_000));
    expect((await g.sh('pgrep -f "httpd -f -p 8080" | sort')).trim()).toBe(pidsBefore);
    expect(await g.sh(httpIn(`http://${clusterIp}/`, 20))).toContain('hello-from-arm64');
    lap('server down: pods keep running');

    // 8. Reboot the gateway while the server is down: OpenRC starts the agent, which brings the pods
    // back from its cache (no server to ask).
    const uptimeAfterReboot = await g.reboot();
    lap(`offline reboot → console shell (kernel uptime ${uptimeAfterReboot} s)`);
    await until('the pods to run again after the offline reboot', 900_000, async () => {
      const n = (await g.exec('pgrep -f "httpd -f -p 8080" | wc -l')).out.trim();
      if (Number(n) !== REPLICAS) return false;
      return (await g.exec(httpIn(`http://${clusterIp}/`, 10))).out.includes('hello-from-arm64');
    }, () => g.consoleTail(1500));
    lap('offline reboot → pods serving again');
    // Really offline: the guest's only path is qemu's forward to this port on the host's loopback,
    // where nothing listens. (A connect from the guest always succeeds: qemu's user-mode network
    // accepts it and only then runs the forward, whose failure the guest sees as an empty reply.)
    expect(await new Promise<string>((res) => {
      const c = connect(s.port, '127.0.0.1', () => { c.destroy(); res('connected'); });
      c.on('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
    })).toBe('ECONNREFUSED');

    // 9. Server back on the same address: the node turns Ready, the statuses match the pods that run.
    server = await startServer({ dir: s.dir, port: s.port, extraArgs: ['--advertise-address', SERVER_ADDRESS_IN_GUEST] });
    const s2 = server;
    const k2 = (args: string[]) => kubectl(s2, args, { timeoutMs: 60_000 });
    await until('the node to be Ready after the server is back', 600_000, async () => {
      const r = await k2(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return r.code === 0 && r.stdout.trim() === 'True';
    });
    const after = await until('pod statuses to match the rebooted gateway', 600_000, async () => {
      const r = await k2(['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'json']);
      if (r.code !== 0) return undefined;
      const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; status: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean }[] } }[] }).items;
      if (items.length !== REPLICAS || !items.every((p) => p.status.phase === 'Running' && p.status.podIP && p.status.containerStatuses?.every((c) => c.ready))) return undefined;
      // The IPs the server shows are the ones that answer on the gateway now.
      for (const p of items) if (!(await g.exec(httpIn(`http://${p.status.podIP}:8080/`, 10))).out.includes('hello-from-arm64')) return undefined;
      return items;
    });
    expect(after.map((p) => p.metadata.name).sort()).toEqual(running.map((p) => p.name).sort());
    lap('server back → node Ready, statuses right');

    // 10. Uninstall: no process, mount, network namespace, link, nft table or file of edgeos is left.
    ok(await k2(['delete', 'namespace', NS, '--wait=false']), 'delete namespace');
    const un = await g.sh('/usr/local/bin/edgeos-uninstall.sh', 600_000);
    expect(un).toContain('[edgeos-uninstall] done');
    expect((await g.exec('pgrep -l -f "edgeos|containerd|httpd -f"')).out.trim()).toBe('');
    expect((await g.sh('grep -E "containerd|edgeos|/run/netns" /proc/mounts || true')).trim()).toBe('');
    expect((await g.sh('ls /run/netns 2>/dev/null || true')).trim()).toBe('');
    expect((await g.sh('ip -o link show | grep -v -E ": (lo|eth0):" || true')).trim()).toBe('');
    expect((await g.sh('nft list tables')).trim()).toBe('');
    await g.sh('rm -rf /root/edgeos-bundle');
    const afterFiles = await g.sh('find / -xdev | LC_ALL=C sort; find /run | LC_ALL=C sort', 300_000);
    const set = (t: string) => new Set(t.split('\n').filter((p) => p && !VOLATILE.test(p)));
    const b = set(before);
    const a = set(afterFiles);
    expect({ added: [...a].filter((p) => !b.has(p)), removed: [...b].filter((p) => !a.has(p)) }).toEqual({ added: [], removed: [] });
    lap('uninstall leaves nothing');
    console.log(`[arm64-gateway] timings (s): ${JSON.stringify(timings)}`);
  }, 3_600_000);
});
