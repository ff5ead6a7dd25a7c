/**
 * One pod network across two NATed sites (issue #14, points 3, 4 and 6), in network namespaces of
 * the test's own (podnet-sites.ts): the server in a "cloud" namespace, site A (a1, a2) and site B
 * (b1) each behind its own router that masquerades what leaves it, the sites unable to reach each
 * other. Pods of one site talk over the direct path (routed natively on their shared LAN; VXLAN
 * when the LAN drops pod source addresses), pods across sites through the server (the relay over
 * each node's link); cutting the LAN between two nodes moves the pair to the relay, and restoring
 * it moves it back; with the server gone a site's pods
 * keep talking, also after an offline reboot of a node (kernel state gone, pods recreated from the
 * agent's cache).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podNetworkNames } from '../../src/agent/podnet/pod-network.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { linesWithDuplicateKeys } from '../helpers/log-lines.ts';
import { REPO, keptPodCidr } from './helpers.ts';
import { GET, v4 } from './pod-web.ts';
import { NS, Sites, stopChild } from './podnet-sites.ts';

const t = new Sites('pn3', [
  { name: 'a1', site: 'a' },
  { name: 'a2', site: 'a' },
  { name: 'b1', site: 'b' },
]);
const [a1, a2, b1] = [t.node('a1'), t.node('a2'), t.node('b1')];
const inPod = (pod: string, script: string) => t.kubectl(['-n', NS, 'exec', pod, '--', 'sh', '-c', GET + script]);
const hostnameVia = async (pod: string, ip: string) => (await inPod(pod, `get ${ip} /`).catch(() => '')).trim();

beforeAll(async () => {
  await t.up();
  await t.webPods();
}, 480_000);

afterAll(async () => {
  if (process.env.EDGEOS_TEST_KEEP_LOGS) (await import('node:fs')).writeFileSync(process.env.EDGEOS_TEST_KEEP_LOGS, t.context());
  await t.close();
}, 300_000);

describe('one pod network across NATed sites', () => {
  it('sites cannot reach each other: only the server is reachable from both', async () => {
    expect((await t.run(a1.ns, ['busybox', 'ping', '-c1', '-W1', b1.ip])).code).not.toBe(0);
    expect((await t.run(b1.ns, ['busybox', 'ping', '-c1', '-W1', a1.ip])).code).not.toBe(0);
    expect((await t.run(a1.ns, ['busybox', 'ping', '-c1', '-W2', a2.ip])).code).toBe(0);
  }, 60_000);

  it('uses the direct path within a site and the relay across sites, with the pods\' own addresses', async () => {
    await t.waitFor('a1 ↔ a2 native, a1 → b1 and b1 → a1 relayed', async () =>
      t.via(a1, a2) === 'native' && t.via(a2, a1) === 'native' && t.via(a1, b1) === 'relay' && t.via(b1, a1) === 'relay' && t.via(a2, b1) === 'relay', 30_000);
    const [ipA1, ipA2, ipB1] = [await t.podIp('web-a1'), await t.podIp('web-a2'), await t.podIp('web-b1')];
    // Across sites, both ways, through the server; the other side sees the client pod's address.
    expect(await t.waitFor('web-b1 from web-a1 over the relay', async () => (await hostnameVia('web-a1', ipB1)) || undefined, 30_000)).toBe('web-b1');
    expect(v4(await inPod('web-a1', `get ${ipB1} /cgi-bin/ip`))).toBe(ipA1);
    expect(v4(await inPod('web-b1', `get ${ipA2} /cgi-bin/ip`))).toBe(ipB1);
    // Full-size segments over the relay (the overlay's MTU leaves room for VXLAN; the relay carries whole packets).
    expect((await inPod('web-b1', `get ${ipA1} /big | wc -c`)).trim()).toBe(String(256 * 1024));
    // Within the site: routed to the other node's LAN address, no encapsulation, no masquerade.
    expect(v4(await inPod('web-a1', `get ${ipA2} /cgi-bin/ip`))).toBe(ipA1);
    expect((await inPod('web-a1', `get ${ipA2} /big | wc -c`)).trim()).toBe(String(256 * 1024));
    expect(a1.ns.exec(['ip', 'route', 'show', 'proto', '75'])).toContain(`via ${a2.ip} dev eth0`);
    // The VXLAN packets between a1 and a2 (the VXLAN probe) are left untracked; the pods' own packets are
    // tracked (a Service's DNAT is undone from their entry), and so are the relay's (its DNAT).
    const tracked = async (args: string[]) => (await t.run(a1.ns, ['conntrack', '-L', ...args])).stdout;
    expect(await tracked(['-p', 'udp', '--dport', '8472', '--dst', a2.ip])).not.toContain(`dst=${a2.ip}`);
    expect(await tracked(['-p', 'tcp', '--src', ipA1, '--dst', ipA2])).toContain(`dst=${ipA2}`);
    expect(await tracked(['-p', 'udp', '--dport', '8472'])).toMatch(/dst=169\.254\.\d+\.\d+ sport=\d+ dport=8472/);
    // The server says it relays (node pairs in the last 10 s) and counts the packets.
    const metrics = await t.kubectl(['get', '--raw', '/metrics']);
    expect(Number(/^edgeos_link_relays (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^edgeos_link_relay_packets_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(100);
    expect(Number(/^edgeos_link_relay_refused_packets_total (\d+)$/m.exec(metrics)?.[1])).toBe(0);
    // Relayed packets come in on the overlay's device while a1 sends through the relay's: loose
    // reverse-path filtering there.
    expect(a1.ns.exec(['cat', `/proc/sys/net/ipv4/conf/${podNetworkNames(a1.data).device}/rp_filter`]).trim()).toBe('2');
    // So do the agents, at their node's /metrics.
    const a1Metrics = await t.kubectl(['get', '--raw', '/api/v1/nodes/a1/proxy/metrics']);
    expect(Number(/^edgeos_agent_pod_relay_packets_total\{direction="sent"\} (\d+)$/m.exec(a1Metrics)?.[1])).toBeGreaterThan(50);
    expect(Number(/^edgeos_agent_pod_relay_packets_total\{direction="received"\} (\d+)$/m.exec(a1Metrics)?.[1])).toBeGreaterThan(50);
  }, 120_000);

  it('reaches a Service whose only endpoint is in the other site', async () => {
    await t.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'far', namespace: NS }, spec: { selector: { app: 'web-b1' }, ports: [{ port: 80, targetPort: 8080 }] } }));
    const got = await t.waitFor('the Service in the other site', async () => (await inPod('web-a2', 'get far / 80').catch(() => '')).trim() || undefined, 60_000);
    expect(got).toBe('web-b1');
  }, 120_000);

  it('falls back to VXLAN by itself where the LAN drops pod source addresses, and back to native routing when it carries them', async () => {
    const [ipA1, ipA2] = [await t.podIp('web-a1'), await t.podIp('web-a2')];
    await t.waitFor('a1 ↔ a2 native', async () => t.via(a1, a2) === 'native' && t.via(a2, a1) === 'native', 30_000);
    // As a cloud network that checks source addresses: routed pod packets are dropped, VXLAN (node addresses) passes.
    t.dropSources(a1.site, '10.42.0.0/16');
    try {
      await t.waitFor('a1 ↔ a2 over VXLAN', async () => t.via(a1, a2) === 'direct' && t.via(a2, a1) === 'direct', 30_000);
      expect(a1.out).toContain('"msg":"pod network path to a peer goes over VXLAN: its native path does not answer"');
      expect(await t.waitFor('web-a2 from web-a1 over VXLAN', async () => v4((await t.inPodNetns(a1, ipA1, `get ${ipA2} /cgi-bin/ip`)).stdout) || undefined, 20_000)).toBe(ipA1);
      // Still VXLAN a few probe rounds later: the native probe keeps failing, so nothing flaps.
      await new Promise((r) => setTimeout(r, 2000));
      expect([t.via(a1, a2), t.via(a2, a1)]).toEqual(['direct', 'direct']);
    } finally {
      t.allowSources(a1.site);
    }
    await t.waitFor('a1 ↔ a2 native again', async () => t.via(a1, a2) === 'native' && t.via(a2, a1) === 'native', 30_000);
    expect(a1.out).toContain('"msg":"pod network path to a peer is native"');
    expect((await t.inPodNetns(a1, ipA1, `get ${ipA2} /`)).stdout.trim()).toBe('web-a2');
  }, 120_000);

  it('moves a pair to the relay when its direct path is cut, and back when it returns', async () => {
    const ipA2 = await t.podIp('web-a2');
    t.cut(a1, a2);
    const cutAt = Date.now();
    try {
      await t.waitFor('a1 to reach a2 through the relay', async () => t.via(a1, a2) === 'relay', 30_000);
      const switched = (Date.now() - cutAt) / 1000;
      // The probe declares a peer dead after 2 s; the bench measures the traffic's own failover.
      expect(switched).toBeLessThan(15);
      expect(await t.waitFor('web-a2 from web-a1 with the LAN between them cut', async () => (await hostnameVia('web-a1', ipA2)) || undefined, 20_000)).toBe('web-a2');
      // a2's probes get no answer either (a1's replies are dropped): it moves too.
      await t.waitFor('a2 to reach a1 through the relay', async () => t.via(a2, a1) === 'relay', 30_000);
      expect(a1.out).toContain('"msg":"pod network path to a peer goes through the relay"');
    } finally {
      t.restore(a1);
    }
    await t.waitFor('a1 ↔ a2 native again', async () => t.via(a1, a2) === 'native' && t.via(a2, a1) === 'native', 30_000);
    expect(await hostnameVia('web-a1', ipA2)).toBe('web-a2');
  }, 180_000);

  it('keeps a peer on the direct path while its agent restarts with the link up', async () => {
    const [ipA1, ipA2] = [await t.podIp('web-a1'), await t.podIp('web-a2')];
    await t.waitFor('a1 ↔ a2 native', async () => t.via(a1, a2) === 'native' && t.via(a2, a1) === 'native', 30_000);
    const a1From = a1.out.length;
    // A graceful stop (SIGTERM), as a restart or an upgrade does: the agent tells its direct peers.
    await stopChild(a2.agent);
    const stoppedAt = Date.now();
    const paths: string[] = [];
    const watch = setInterval(() => paths.push(t.via(a1, a2) ?? 'none'), 100);
    try {
      // No agent on a2: its kernel still carries a1's pod traffic, and a1 keeps the direct path.
      expect((await t.inPodNetns(a1, ipA1, `get ${ipA2} /`)).stdout.trim()).toBe('web-a2');
      const from = a2.out.length;
      t.startAgent(a2, ['agent', '--data-dir', a2.data, '--resolv-conf', join(t.dir, 'resolv.conf')]);
      await t.waitFor('a2\'s new agent to program its pod network', async () => a2.out.slice(from).includes('pod network overlay programmed'), 120_000);
      // Longer than a1 waits for an unanswered peer (DEAD_AFTER_MS, 1 s): without the goodbye it would have moved a2.
      expect(Date.now() - stoppedAt).toBeGreaterThan(1500);
      // a2's new agent answers probes again (every 100 ms while unanswered).
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      clearInterval(watch);
    }
    expect(paths.length).toBeGreaterThan(10);
    expect([...new Set(paths)]).toEqual(['native']);
    expect(a1.out.slice(a1From)).toContain('"msg":"pod network peer\'s agent is going away: its direct path is kept until it answers again"');
    expect(a1.out.slice(a1From)).not.toContain('"msg":"pod network path to a peer goes through the relay"');
    expect(await hostnameVia('web-a1', ipA2)).toBe('web-a2');
  }, 240_000);

  it('keeps a site\'s pods talking with the server gone, also after an offline reboot of one of its nodes', async () => {
    const [ipA1, ipA2] = [await t.podIp('web-a1'), await t.podIp('web-a2')];
    const cidrA2 = await t.nodeField('a2', '{.spec.podCIDR}');
    await t.stopServer('SIGKILL');
    expect((await t.inPodNetns(a1, ipA1, `get ${ipA2} /`)).stdout.trim()).toBe('web-a2');

    // The reboot of a2: agent gone, every pod and its network namespace gone (through CRI),
    // containerd stopped, and the kernel's state of the node (bridge, VXLAN device, nftables) gone.
    await stopChild(a2.agent);
    const removed = await t.run(a2.ns, [process.execPath, '--input-type=module', '-e', `const m = await import(${JSON.stringify(join(REPO, 'test/e2e/helpers.ts'))}); await m.removePodsOfStoppedAgent(${JSON.stringify(a2.data)});`], 120_000);
    expect(removed.code).toBe(0);
    a2.ns.exec(['ip', 'link', 'del', resolveRuntimeConfig({ dataDir: a2.data }).cni.bridge]);
    a2.ns.exec(['ip', 'link', 'del', podNetworkNames(a2.data).device]);
    a2.ns.exec(['ip', 'link', 'del', podNetworkNames(a2.data).relayDevice]);
    a2.ns.exec(['ip', 'route', 'flush', 'proto', '75']);
    const tables = JSON.parse(a2.ns.exec(['nft', '-j', 'list', 'tables'])) as { nftables: { table?: { family: string; name: string } }[] };
    for (const e of tables.nftables) if (e.table) a2.ns.exec(['nft', 'delete', 'table', e.table.family, e.table.name]);
    expect((await t.inPodNetns(a1, ipA1, `get ${ipA2} /`)).stdout.trim()).toBe('');
    // a2 has answered no probe for seconds, but with a1's link down the relay carries nothing:
    // a1 keeps the direct path rather than moving a2 to a relay that cannot work (its native
    // route stays: VXLAN does not answer either, and only the relay would be left).
    expect(t.via(a1, a2)).toBe('native');

    const from = a2.out.length;
    t.startAgent(a2, ['agent', '--data-dir', a2.data, '--resolv-conf', join(t.dir, 'resolv.conf')]);
    await t.waitFor('the rebooted agent\'s kubelet', async () => a2.out.slice(from).includes('kubelet ready'), 120_000);
    expect(keptPodCidr(a2.data)).toBe(cidrA2);
    expect(a2.out.slice(from)).not.toContain('waiting for the server to assign');
    // The pod comes back from the cache (a new sandbox) with its old address, and a1's pod reaches it
    // over the direct path the rebooted node programmed from its cache, the server still down.
    const newIp = await t.waitFor('web-a2 running again with an address of a2\'s pod CIDR', async () => {
      const ids = a2.ns.exec(['ip', 'netns', 'list-id']);
      for (const m of ids.matchAll(/iproute2 netns name: (cni-[\w-]+)/g)) {
        const addrs = (await t.run(a2.ns, ['ip', '-n', m[1]!, '-j', '-4', 'addr', 'show'])).stdout;
        const ip = /"local":"(10\.42\.\d+\.\d+)"/.exec(addrs)?.[1];
        if (ip && ip.startsWith(cidrA2.replace(/0\/24$/, ''))) return ip;
      }
      return undefined;
    }, 120_000);
    expect(newIp).toBe(ipA2);
    const back = await t.waitFor('web-a2 from web-a1 after the reboot', async () => (await t.inPodNetns(a1, ipA1, `get ${newIp} /`)).stdout.trim() || undefined, 60_000);
    expect(back).toBe('web-a2');
    expect(v4((await t.inPodNetns(a1, ipA1, `get ${newIp} /cgi-bin/ip`)).stdout)).toBe(ipA1);
    expect(t.via(a2, a1)).toBe('native');
    for (const n of t.nodes) expect(linesWithDuplicateKeys(n.out)).toEqual([]);
  }, 300_000);
});
