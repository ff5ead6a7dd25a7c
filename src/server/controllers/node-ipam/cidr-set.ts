// Which blocks of --cluster-cidr are held by which node, the bookkeeping of kube-controller-manager's
// range allocator (pkg/controller/nodeipam/ipam/cidrset): a node's existing podCIDR is occupied,
// a node without one gets the lowest free block, a deleted node's block is released. Kept in
// memory and rebuilt from the Node objects at every start, so the store (node.spec.podCIDR) is
// the only record and nothing can drift from it.
import { intToIpv4, parseIpv4Cidr } from '../../../common/cluster-network.ts';

export type OccupyResult = { ok: true } | { ok: false; reason: string };

export class CidrSet {
  private readonly base: number;
  private readonly blockSize: number;
  private readonly count: number;
  private readonly holders = new Map<number, string>();
  private readonly byNode = new Map<string, number>();
  /** No block below this index is free: allocation starts here (10,000 nodes, not 50 million lookups). */
  private lowestFree = 0;

  readonly clusterCidr: string;
  readonly maskSize: number;

  constructor(clusterCidr: string, maskSize: number) {
    this.clusterCidr = clusterCidr;
    this.maskSize = maskSize;
    const c = parseIpv4Cidr(clusterCidr);
    if (!c || maskSize < c.prefix || maskSize > 32) throw new Error(`cannot split ${clusterCidr} into /${maskSize} blocks`);
    this.base = c.base;
    this.blockSize = 2 ** (32 - maskSize);
    this.count = c.size / this.blockSize;
  }

  get size(): number {
    return this.count;
  }

  get used(): number {
    return this.holders.size;
  }

  /** The block `node` holds, if any. */
  of(node: string): string | undefined {
    const i = this.byNode.get(node);
    return i === undefined ? undefined : this.cidr(i);
  }

  /** Records that `node` holds `cidr` (its podCIDR as stored). */
  occupy(node: string, cidr: string): OccupyResult {
    const c = parseIpv4Cidr(cidr);
    if (!c || c.prefix !== this.maskSize || `${intToIpv4(c.base)}/${c.prefix}` !== cidr.trim()) {
      return { ok: false, reason: `${cidr} is not a /${this.maskSize} block` };
    }
    const i = (c.base - this.base) / this.blockSize;
    if (c.base < this.base || i >= this.count) return { ok: false, reason: `${cidr} is outside the cluster CIDR ${this.clusterCidr}` };
    const holder = this.holders.get(i);
    if (holder !== undefined && holder !== node) return { ok: false, reason: `${cidr} is already node ${holder}'s` };
    this.release(node);
    this.holders.set(i, node);
    this.byNode.set(node, i);
    return { ok: true };
  }

  /** The lowest free block, now held by `node`; undefined when every block is taken. */
  allocate(node: string): string | undefined {
    const had = this.of(node);
    if (had) return had;
    for (let i = this.lowestFree; i < this.count; i++) {
      if (this.holders.has(i)) continue;
      this.holders.set(i, node);
      this.byNode.set(node, i);
      this.lowestFree = i + 1;
      return this.cidr(i);
    }
    this.lowestFree = this.count;
    return undefined;
  }

  release(node: string): void {
    const i = this.byNode.get(node);
    if (i === undefined) return;
    this.byNode.delete(node);
    if (this.holders.get(i) === node) {
      this.holders.delete(i);
      if (i < this.lowestFree) this.lowestFree = i;
    }
  }

  private cidr(i: number): string {
    return `${intToIpv4(this.base + i * this.blockSize)}/${this.maskSize}`;
  }
}
