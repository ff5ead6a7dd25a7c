import { isIP } from 'node:net';
import type { SubjectAltName } from './issue.ts';

/** Canonical text of an IP ("0:0::1" → "::1", "::ffff:7f00:1" stays distinct from "127.0.0.1"). */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Turns names and addresses into deduplicated, canonical SANs (IPs as IP SANs, the rest as DNS). */
export function toSans(values: Iterable<string>): SubjectAltName[] {
  const seen = new Map<string, SubjectAltName>();
  for (const raw of values) {
    const v = raw.trim();
    if (v === '') continue;
    const san: SubjectAltName = isIP(v) ? { type: 'ip', value: canonicalIp(v) } : { type: 'dns', value: v.toLowerCase() };
    seen.set(`${san.type}:${san.value}`, san);
  }
  return [...seen.values()];
}

/** Order-insensitive equality of two SAN lists. */
export function sameSans(a: readonly SubjectAltName[], b: readonly SubjectAltName[]): boolean {
  const key = (list: readonly SubjectAltName[]) =>
    toSans(list.map((s) => s.value)).map((s) => `${s.type}:${s.value}`).sort().join(',');
  return key(a) === key(b);
}

/**
 * The serving certificate's names: what kubectl, agents and in-cluster clients dial. The
 * kubernetes.default.svc names match what kube-apiserver (and k3s) put in theirs, so pods using the
 * in-cluster config can verify the server.
 */
export function servingSans(opts: { hostname: string; advertiseAddress?: string; tlsSans: readonly string[]; serviceIp?: string }): SubjectAltName[] {
  return toSans([
    opts.hostname,
    'localhost',
    '127.0.0.1',
    '::1',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    ...(opts.advertiseAddress ? [opts.advertiseAddress] : []),
    ...(opts.serviceIp ? [opts.serviceIp] : []),
    ...opts.tlsSans,
  ]);
}
