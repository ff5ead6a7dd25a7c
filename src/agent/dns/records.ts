/**
 * The cluster zone's records, built from the agent's Services and EndpointSlices as the Kubernetes
 * DNS specification (kubernetes/dns docs/specification.md, schema 1.0.1) lists them: A and SRV
 * for ClusterIP Services, the ready endpoints of headless ones (with `<hostname>.<service>` names),
 * PTR for both, CNAME for ExternalName, `a-b-c-d.<ns>.pod` (the deprecated form the spec still
 * requires) and `dns-version`. Like CoreDNS's kubernetes plugin it answers from this in-memory
 * index only, never waiting on the server. Names compare case-insensitively.
 */
import { isIPv4 } from 'node:net';
import type { EndpointSliceJson, ServiceJson } from '../services/plan.ts';
import { SERVICE_NAME_LABEL } from '../services/plan.ts';
import { RCODE, TYPE } from './wire.ts';
import type { DnsRecord, RData, Response } from './wire.ts';

export const SCHEMA_VERSION = '1.0.1';
/** CoreDNS's default TTL for cluster records: short, so clients follow endpoint changes. */
const TTL = 5;

export interface Lookup {
  readonly response: Response;
  /** An ExternalName target outside the zone: the server resolves it and appends the answers. */
  readonly chase?: string;
}

const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

export class ZoneIndex {
  private readonly zone: string;
  private readonly records = new Map<string, RData[]>();
  /** Names that exist without records of their own (`svc.<zone>`, `<ns>.svc.<zone>`): NODATA, not NXDOMAIN. */
  private readonly nonTerminals = new Set<string>();
  private readonly soa: DnsRecord;

  constructor(zone: string) {
    this.zone = zone.toLowerCase();
    this.soa = {
      name: this.zone,
      ttl: TTL,
      data: { type: TYPE.SOA, mname: `ns.dns.${this.zone}`, rname: `hostmaster.${this.zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL },
    };
  }

  private add(name: string, data: RData): void {
    const key = name.toLowerCase();
    const list = this.records.get(key);
    if (list) list.push(data);
    else this.records.set(key, [data]);
  }

  /** Rebuilds everything from the catalog (cheap: a few thousand entries at most on a node). */
  rebuild(services: Iterable<ServiceJson>, slices: Iterable<EndpointSliceJson>): void {
    this.records.clear();
    this.nonTerminals.clear();
    const z = this.zone;
    this.add(`dns-version.${z}`, { type: TYPE.TXT, text: [SCHEMA_VERSION] });
    this.nonTerminals.add(z).add(`svc.${z}`).add(`pod.${z}`);
    const slicesOf = new Map<string, EndpointSliceJson[]>();
    for (const s of slices) {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!svc) continue;
      const k = `${s.metadata?.namespace ?? ''}/${svc}`;
      const list = slicesOf.get(k);
      if (list) list.push(s);
      else slicesOf.set(k, [s]);
    }
    for (const svc of services) {
      const ns = svc.metadata?.namespace ?? '';
      const name = svc.metadata?.name ?? '';
      const base = `${name}.${ns}.svc.${z}`;
      this.nonTerminals.add(`${ns}.svc.${z}`);
      const spec = svc.spec as (ServiceJson['spec'] & { externalName?: string }) | undefined;
      if (spec?.type === 'ExternalName') {
        if (spec.externalName) this.add(base, { type: TYPE.CNAME, name: spec.externalName.replace(/\.$/, '') });
        continue;
      }
      const ports = (spec?.ports ?? []).filter((p) => p.name && p.port);
      if (spec?.clusterIP && spec.clusterIP !== 'None') {
        if (!isIPv4(spec.clusterIP)) continue;
        this.add(base, { type: TYPE.A, ip: spec.clusterIP });
        this.add(reverse(spec.clusterIP), { type: TYPE.PTR, name: base });
        for (const p of ports) this.add(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`, { type: TYPE.SRV, priority: 0, weight: 100, port: p.port!, target: base });
        continue;
      }
      this.headless(svc, base, ports, slicesOf.get(`${ns}/${name}`) ?? []);
    }
  }

  private headless(svc: ServiceJson, base: string, ports: NonNullable<ServiceJson['spec']>['ports'] & object, slices: EndpointSliceJson[]): void {
    const allReady = svc.spec?.publishNotReadyAddresses === true;
    const seen = new Set<string>();
    for (const slice of slices) {
      if (slice.addressType !== 'IPv4') continue;
      for (const ep of slice.endpoints ?? []) {
        if (!allReady && ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses ?? []) {
          if (!isIPv4(ip) || seen.has(ip)) continue;
          seen.add(ip);
          // The spec leaves an endpoint without hostname a system-assigned one: its dashed IP, as CoreDNS.
          const host = `${ep.hostname ?? ip.replaceAll('.', '-')}.${base}`;
          this.add(base, { type: TYPE.A, ip });
          this.add(host, { type: TYPE.A, ip });
          this.add(reverse(ip), { type: TYPE.PTR, name: host });
          for (const p of ports) {
            const sp = (slice.ports ?? []).find((x) => x.name === p.name && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
            if (sp?.port) this.add(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`, { type: TYPE.SRV, priority: 0, weight: 100, port: sp.port, target: host });
          }
        }
      }
    }
  }

  inZone(name: string): boolean {
    const n = name.toLowerCase();
    return n === this.zone || n.endsWith(`.${this.zone}`);
  }

  /** The answer for `name`/`type`, or undefined when the name is not ours (forward it). */
  lookup(name: string, type: number): Lookup | undefined {
    const key = name.toLowerCase().replace(/\.$/, '');
    let data = this.records.get(key);
    if (!data) data = this.podRecord(key);
    if (!data) {
      if (!this.inZone(key)) return undefined;
      const rcode = this.nonTerminals.has(key) ? RCODE.NOERROR : RCODE.NXDOMAIN;
      return { response: { rcode, aa: true, answers: [], authority: [this.soa] } };
    }
    const rr = (d: RData, owner = name): DnsRecord => ({ name: owner, ttl: TTL, data: d });
    const cname = data.find((d) => d.type === TYPE.CNAME);
    if (cname && type !== TYPE.CNAME && cname.type === TYPE.CNAME) {
      const answers = [rr(cname)];
      const inside = this.inZone(cname.name) ? this.records.get(cname.name.toLowerCase()) : undefined;
      if (inside) answers.push(...inside.filter((d) => d.type === type).map((d) => rr(d, cname.name)));
      return { response: { rcode: RCODE.NOERROR, aa: true, answers }, ...(this.inZone(cname.name) ? {} : { chase: cname.name }) };
    }
    if (key === this.zone && type === TYPE.SOA) return { response: { rcode: RCODE.NOERROR, aa: true, answers: [this.soa] } };
    const answers = data.filter((d) => type === TYPE.ANY || d.type === type).map((d) => rr(d));
    if (answers.length === 0) return { response: { rcode: RCODE.NOERROR, aa: true, answers: [], authority: [this.soa] } };
    // SRV targets' addresses ride along (the spec's "Additional section may include").
    const additional: DnsRecord[] = [];
    for (const a of answers) {
      if (a.data.type !== TYPE.SRV) continue;
      const target = a.data.target;
      for (const d of this.records.get(target.toLowerCase()) ?? []) if (d.type === TYPE.A && !additional.some((x) => x.name === target && x.data.type === TYPE.A && x.data.ip === d.ip)) additional.push(rr(d, target));
    }
    return { response: { rcode: RCODE.NOERROR, aa: true, answers, additional } };
  }

  /** `a-b-c-d.<ns>.pod.<zone>` → a.b.c.d, for any namespace (CoreDNS's `pods insecure`, K3s's setting). */
  private podRecord(key: string): RData[] | undefined {
    const suffix = `.pod.${this.zone}`;
    if (!key.endsWith(suffix)) return undefined;
    const labels = key.slice(0, -suffix.length).split('.');
    if (labels.length !== 2) return undefined;
    const ip = labels[0]!.replaceAll('-', '.');
    return isIPv4(ip) ? [{ type: TYPE.A, ip }] : undefined;
  }
}
