import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../../common/errors.ts';
import type { CniSettings } from '../config.ts';
import { parseCidr } from '../config.ts';

export interface Route {
  iface: string;
  network: number;
  prefix: number;
}

/** /proc/net/route: destination and mask are little-endian hex; the default route has mask 0. */
export function parseProcNetRoute(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (hex: string): number => Buffer.from(hex, 'hex').readUInt32LE(0);
    const mask = le(f[7]!);
    if (mask === 0) continue;
    routes.push({ iface: f[0]!, network: le(f[1]!), prefix: 32 - Math.log2(2 ** 32 - mask) });
  }
  return routes;
}

function overlaps(a: { network: number; prefix: number }, b: { network: number; prefix: number }): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const size = 2 ** (32 - p);
  return Math.floor(a.network / size) === Math.floor(b.network / size);
}

/**
 * Two agents on one host must use different pod CIDRs: the same subnet on two bridges breaks
 * routing for both. Any route overlapping ours on another interface (another agent's bridge, a
 * LAN) is refused at start, naming the flag, instead of surfacing later as unreachable pods.
 */
export function checkPodCidrFree(cni: CniSettings, routes: readonly Route[]): void {
  const ours = parseCidr('--pod-cidr', cni.podCidr);
  for (const r of routes) {
    if (r.iface !== cni.bridge && overlaps(ours, r)) {
      const ip = [24, 16, 8, 0].map((s) => (r.network >>> s) & 255).join('.');
      throw new InvalidInputError(`--pod-cidr: ${cni.podCidr} overlaps ${ip}/${r.prefix} routed via ${r.iface} (another agent's bridge or a local network); give each agent its own pod CIDR`);
    }
  }
}

export async function readRoutes(): Promise<Route[]> {
  return parseProcNetRoute(await readFile('/proc/net/route', 'utf8'));
}
