import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';

const urlOf = (host: string, port: number) => `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;

/**
 * The addresses agents (and the other servers of a cluster) should dial, best first:
 * --advertise-address; else a specific --bind-address; else this host's non-loopback addresses,
 * then loopback (an agent on this host). The serving certificate carries them all.
 */
export function advertisedHosts(o: { advertiseAddress: string | undefined; bindAddress: string }): string[] {
  if (o.advertiseAddress) return [o.advertiseAddress];
  if (o.bindAddress !== '0.0.0.0' && o.bindAddress !== '::') return [o.bindAddress];
  const hosts: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') hosts.push(a.address);
  }
  return [...hosts, '127.0.0.1'];
}

export function advertisedUrls(o: { advertiseAddress: string | undefined; bindAddress: string; port: number }): string[] {
  return advertisedHosts(o).map((h) => urlOf(h, o.port));
}

/**
 * The address and port in-cluster clients reach the API on (the `kubernetes` Service's endpoint,
 * as kube-apiserver's --advertise-address): the first of the advertised addresses.
 */
export function apiEndpoint(config: { advertiseAddress: string | undefined; bindAddress: string; httpsListenPort: number }): { ip: string; port: number } {
  const url = new URL(advertisedUrls({ advertiseAddress: config.advertiseAddress, bindAddress: config.bindAddress, port: config.httpsListenPort })[0]!);
  return { ip: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: config.httpsListenPort };
}
