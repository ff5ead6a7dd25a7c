// The DNS benches' server (dns-cpu.ts, dns-memory.ts): the start of a script, bundled as the agent
// is (its --lite-mode has no WebAssembly, so no TypeScript stripping), that creates the real
// createDnsServer of `moduleFile` as `dns` over an in-memory catalog of `services` ClusterIP
// Services `svc-<i>` in namespace `bench`, on loopback, port 0.
export function dnsServerScript(moduleFile: string, services: number): string {
  return `
import { createInterface } from 'node:readline';
import { createDnsServer } from ${JSON.stringify(moduleFile)};
const services = new Map();
for (let i = 0; i < ${services}; i++) {
  const name = 'svc-' + i;
  services.set('bench/' + name, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' }, spec: { clusterIP: '10.43.1.' + (i + 1), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
}
const catalog = { services, slices: new Map(), start: async () => undefined, subscribe: () => () => undefined, stop: () => undefined };
const silent = { child: () => silent, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const dns = createDnsServer({ address: '127.0.0.1', port: 0, zone: 'cluster.local', catalog, resolvConf: '/dev/null', log: silent });
`;
}
