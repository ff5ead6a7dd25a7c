import { mkdir, readdir, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { join } from 'node:path';
import type { CniSettings } from '../config.ts';
import { parseCidr } from '../config.ts';

/**
 * The node's CNI network: a Linux bridge (gateway + masquerade unless the agent's pod network
 * masquerades itself + hairpin so a pod reaches itself
 * through its own Service/hostPort), host-local IPAM on the node's pod CIDR, portmap for hostPort,
 * and loopback (containerd's CRI adds lo itself from the bin dir; listing it is harmless).
 * Per-agent names keep two agents on one host apart: the bridge, the network name (which keys
 * the iptables chains and /var/lib/cni cache entries) and host-local's dataDir.
 */
export function renderConflist(cni: CniSettings): object {
  const { network, prefix } = parseCidr('--pod-cidr', cni.podCidr);
  const ip = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  const subnet = `${ip(network)}/${prefix}`;
  return {
    cniVersion: '1.0.0',
    name: cni.networkName,
    plugins: [
      {
        type: 'bridge',
        bridge: cni.bridge,
        isGateway: true,
        ipMasq: cni.ipMasq,
        hairpinMode: true,
        ...(cni.mtu ? { mtu: cni.mtu } : {}),
        ipam: {
          type: 'host-local',
          dataDir: cni.ipamDataDir,
          ranges: [[{ subnet, gateway: ip(network + 1) }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

export const conflistName = '10-edgeos.conflist';

/**
 * Writes the conflist atomically and removes other configs in the dir: containerd loads the first
 * file in lexical order (max_conf_num = 1), so a stale file must never shadow ours.
 */
export async function writeConflist(cni: CniSettings): Promise<string> {
  await mkdir(cni.confDir, { recursive: true });
  await mkdir(cni.ipamDataDir, { recursive: true });
  const file = join(cni.confDir, conflistName);
  writeFileAtomic(file, JSON.stringify(renderConflist(cni), null, 2) + '\n', 0o644);
  for (const name of await readdir(cni.confDir)) {
    if (name !== conflistName && /\.(conf|conflist|json)$/.test(name)) await rm(join(cni.confDir, name), { force: true });
  }
  return file;
}
