/**
 * ClusterIP allocation from the service CIDR (default 10.43.0.0/16, like K3s). Each allocated IP
 * is a store key `/registry/clusterips/<ip>` written in the same transaction as its Service, so an
 * allocation survives restarts and is released atomically with the Service's deletion.
 */
import { randomInt } from 'node:crypto';
import { intToIpv4 as intToIp, ipv4ToInt as ipToInt } from '../../common/cluster-network.ts';
import { InvalidInputError } from '../../common/errors.ts';
import type { Store, TxnOp } from '../../store/types.ts';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const CLUSTER_IP_PREFIX = '/registry/clusterips/';

export type AllocationFailure = { readonly kind: 'taken' | 'out-of-range' | 'invalid' | 'full'; readonly ip: string };

export class ClusterIpAllocator {
  readonly cidr: string;
  readonly #base: number;
  readonly #size: number;

  constructor(cidr = DEFAULT_SERVICE_CIDR) {
    const [addr = '', bitsText = ''] = cidr.split('/');
    const base = ipToInt(addr);
    const bits = Number(bitsText);
    if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) {
      throw new InvalidInputError(`service CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR between /8 and /30`);
    }
    this.cidr = cidr;
    this.#size = 2 ** (32 - bits);
    this.#base = base - (base % this.#size);
  }

  /** The first usable IP (x.x.0.1), which Kubernetes gives the `kubernetes` Service. */
  firstIp(): string {
    return intToIp(this.#base + 1);
  }

  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n !== undefined && n > this.#base && n < this.#base + this.#size - 1;
  }

  keyOf(ip: string): string {
    return CLUSTER_IP_PREFIX + ip;
  }

  /**
   * Pick an IP (the requested one, or a random free one) and the transaction op that reserves it.
   * The op is a `create`, so a concurrent allocation of the same IP fails the whole transaction.
   */
  async allocate(store: Store, owner: string, requested: string | undefined): Promise<{ ip: string; op: TxnOp } | AllocationFailure> {
    const value = Buffer.from(JSON.stringify({ service: owner }), 'utf8');
    if (requested) {
      if (ipToInt(requested) === undefined) return { kind: 'invalid', ip: requested };
      if (!this.contains(requested)) return { kind: 'out-of-range', ip: requested };
      if (await store.get(this.keyOf(requested))) return { kind: 'taken', ip: requested };
      return { ip: requested, op: { op: 'create', key: this.keyOf(requested), value } };
    }
    const used = new Set((await store.list(CLUSTER_IP_PREFIX)).kvs.map((kv) => kv.key.slice(CLUSTER_IP_PREFIX.length)));
    const usable = this.#size - 3; // network, broadcast, and .1 kept for the `kubernetes` Service
    if (used.size >= usable) return { kind: 'full', ip: '' };
    // Random probing like apiserver's bitmap allocator; the range is far larger than an edge cluster's services.
    for (let i = 0; i < 64; i++) {
      const ip = intToIp(this.#base + 2 + randomInt(usable));
      if (!used.has(ip)) return { ip, op: { op: 'create', key: this.keyOf(ip), value } };
    }
    for (let n = this.#base + 2; n < this.#base + this.#size - 1; n++) {
      const ip = intToIp(n);
      if (!used.has(ip)) return { ip, op: { op: 'create', key: this.keyOf(ip), value } };
    }
    return { kind: 'full', ip: '' };
  }

  releaseOp(ip: string): TxnOp {
    return { op: 'delete', key: this.keyOf(ip) };
  }
}
