/**
 * A pod keeps its IP when its sandbox is recreated (an offline reboot, a dead sandbox): issue #14,
 * "pod IPs stay the same across an agent restart and an offline reboot" (docs/podnet.md, "Pod
 * addresses"). containerd's CRI cannot ask the IPAM for an address (it passes no `ips` to CNI), so
 * the agent steers host-local instead: host-local hands out the first free address after the one
 * in its `last_reserved_ip.<range>` file, so writing the wanted address − 1 there just before the
 * sandbox is created gives the pod its old address whenever that is free. One sandbox at a time
 * goes through this (another pod's sandbox in between would take the address); a pod with no
 * previous address never waits.
 *
 * The state is host-local's own, on the agent's data dir (`cni.ipamDataDir`, persistent): its
 * layout is `<dataDir>/<network name>/<ip>` per reserved address and `last_reserved_ip.0` for the
 * one range of our conflist (conflist.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intToIpv4, ipv4ToInt, parseIpv4Cidr } from '../../common/cluster-network.ts';

export interface PodIpKeeper {
  /** Whether `ip` is reserved right now (by a sandbox that still holds it). */
  held(ip: string): boolean;
  /** Runs `create` (the sandbox's creation) with host-local pointed at `ip` when that is free. */
  reuse<T>(ip: string, create: () => Promise<T>): Promise<T>;
}

export function hostLocalPodIpKeeper(o: { readonly ipamDataDir: string; readonly networkName: string; readonly podCidr: string }): PodIpKeeper {
  const dir = join(o.ipamDataDir, o.networkName);
  const c = parseIpv4Cidr(o.podCidr);
  const mask = c && c.prefix > 0 ? (0xffffffff << (32 - c.prefix)) >>> 0 : 0;
  /** The address as a number when it is a host address of the pod CIDR past the gateway (.1). */
  const inRange = (ip: string): number | undefined => {
    const n = ipv4ToInt(ip);
    if (n === undefined || !c || ((n & mask) >>> 0) !== c.base) return undefined;
    const host = n - c.base;
    return host >= 2 && host < 2 ** (32 - c.prefix) - 1 ? n : undefined;
  };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    held: (ip) => inRange(ip) !== undefined && existsSync(join(dir, ip)),
    reuse(ip, create) {
      const n = inRange(ip);
      if (n === undefined) return create();
      const run = queue.then(() => {
        if (!existsSync(join(dir, ip)) && existsSync(dir)) writeFileSync(join(dir, 'last_reserved_ip.0'), intToIpv4(n - 1));
        return create();
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
