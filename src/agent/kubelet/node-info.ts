import { readFile } from 'node:fs/promises';
import { arch, hostname, networkInterfaces, release } from 'node:os';

/** kubelet's version string for edgeos agents. */
export const kubeletVersion = 'v1.32.0-edgeos';

/** Go's GOARCH names, which nodeInfo.architecture and the kubernetes.io/arch label use. */
export function goArch(a: string = arch()): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[a] ?? a;
}

/** The interface of the IPv4 default route (/proc/net/route: destination 00000000). */
export function defaultRouteInterface(routeTable: string): string | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '00000000' && f[7] === '00000000') return f[0];
  }
  return undefined;
}

/**
 * The node's InternalIP: the IPv4 address of the default-route interface, else the first
 * non-loopback IPv4 (kubelet's nodeutil.GetNodeHostIPs without --node-ip).
 */
export async function nodeInternalIP(): Promise<string> {
  const ifs = networkInterfaces();
  const v4 = (name: string): string | undefined => ifs[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  const dev = defaultRouteInterface(await readFile('/proc/net/route', 'utf8').catch(() => ''));
  if (dev && v4(dev)) return v4(dev)!;
  for (const name of Object.keys(ifs)) {
    const a = v4(name);
    if (a) return a;
  }
  return '127.0.0.1';
}

/** PRETTY_NAME from /etc/os-release (kubelet's osImage). */
export function osImage(osRelease: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  return m ? m[1]!.replace(/^["']|["']$/g, '') : 'Linux';
}

const readTrim = async (f: string): Promise<string> => (await readFile(f, 'utf8').catch(() => '')).trim();

export interface MachineInfo {
  hostname: string;
  internalIP: string;
  cpuCores: number;
  memoryBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
}

export async function readMachineInfo(cpuCores: number, memoryBytes: number): Promise<MachineInfo> {
  return {
    hostname: hostname(),
    internalIP: await nodeInternalIP(),
    cpuCores,
    memoryBytes,
    machineID: await readTrim('/etc/machine-id'),
    systemUUID: (await readTrim('/sys/class/dmi/id/product_uuid')) || (await readTrim('/etc/machine-id')),
    bootID: await readTrim('/proc/sys/kernel/random/boot_id'),
    kernelVersion: release(),
    osImage: osImage(await readFile('/etc/os-release', 'utf8').catch(() => '')),
    architecture: goArch(),
  };
}
