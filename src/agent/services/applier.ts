/**
 * Hands the kernel one transaction per sync and remembers the last table it accepted. A refused
 * transaction changes nothing (nft applies a file all or nothing), so the previous table keeps
 * routing; the applier then finds which Service ports the kernel refuses (`nft --check`, halving
 * the changed set), applies everything else, and keeps those ports at their last good rules
 * until they change again.
 */
import { errorMessage } from '../../common/errors.ts';
import { ServicesError } from './errors.ts';
import { nftScript } from './nft-script.ts';
import type { Fragment, NftRunner, Ruleset } from './types.ts';

export interface Refusal {
  /** The Service port's plan id (`<ns>/<name>/<protocol>/<port name>`). */
  readonly id: string;
  readonly message: string;
}

const fragmentKey = (f: Fragment | undefined) => (f ? JSON.stringify([[...f.chains], [...f.containers], [...f.elements]]) : '');

export class NftApplier {
  private last: Ruleset | undefined;
  /** The desired table of the last apply that went through (the kernel holds it, less refused ports). */
  private offered: Ruleset | undefined;
  /** Ports the kernel refused, with the fragment it refused (retried only once that changes). */
  private readonly refused = new Map<string, string>();

  private readonly table: string;
  private readonly nft: NftRunner;

  constructor(table: string, nft: NftRunner) {
    this.table = table;
    this.nft = nft;
  }

  /** What the kernel holds now, as far as this applier knows (undefined before the first apply). */
  get applied(): Ruleset | undefined {
    return this.last;
  }

  /** Applies `next`; returns the ports it had to keep at their last good state. */
  async apply(next: Ruleset): Promise<Refusal[]> {
    // The renderer hands back the very Ruleset it rendered last when no plan changed.
    if (next === this.offered) return [];
    const prev = this.last;
    // The renderer hands back the same fragment object for an unchanged plan: compare by identity first.
    const differs = (id: string) => {
      const [a, b] = [prev?.ports.get(id), next.ports.get(id)];
      return a !== b && fragmentKey(a) !== fragmentKey(b);
    };
    const changed = [...new Set([...(prev?.ports.keys() ?? []), ...next.ports.keys()])].filter(differs);
    // Known-bad fragments are not offered again (and were reported when refused).
    const retry = changed.filter((id) => this.refused.get(id) !== fragmentKey(next.ports.get(id)));
    // Nothing to hand the kernel: no table to copy, merge and diff (a sync after a pod status that
    // changed no plan, or a change only to ports the kernel refuses until they change again).
    if (prev && retry.length === 0 && prev.base === next.base) return [];
    const wanted = this.withPorts(prev, next, retry);
    const script = nftScript(this.table, prev, wanted);
    if (prev && script === `add table ip ${this.table}\n`) return [];
    try {
      await this.nft(script);
      this.last = wanted;
      this.offered = next;
      for (const id of retry) this.refused.delete(id);
      return [];
    } catch (err) {
      if (!(err instanceof ServicesError) || err.code !== 'SERVICES_NFT_REFUSED') throw err;
      const refused = await this.applyAround(prev, next, retry, err);
      this.offered = next;
      return refused;
    }
  }

  /** Removes the table (agent stop, uninstall). */
  async remove(): Promise<void> {
    await this.nft(`add table ip ${this.table}\ndelete table ip ${this.table}\n`);
    this.last = undefined;
    this.offered = undefined;
  }

  /** `prev` with `ids` taken from `next` (added, changed or removed), and `next`'s base. */
  private withPorts(prev: Ruleset | undefined, next: Ruleset, ids: readonly string[]): Ruleset {
    const ports = new Map(prev?.ports ?? []);
    for (const id of ids) {
      const f = next.ports.get(id);
      if (f) ports.set(id, f);
      else ports.delete(id);
    }
    return { base: next.base, ports };
  }

  private async accepted(prev: Ruleset | undefined, r: Ruleset): Promise<string | undefined> {
    try {
      await this.nft(nftScript(this.table, prev, r), { check: true });
      return undefined;
    } catch (err) {
      return errorMessage(err);
    }
  }

  private async applyAround(prev: Ruleset | undefined, next: Ruleset, changed: string[], cause: Error): Promise<Refusal[]> {
    const baseOnly = await this.accepted(prev, this.withPorts(prev, next, []));
    if (baseOnly !== undefined) throw new ServicesError('SERVICES_NFT_REFUSED', `the kernel refused the table itself: ${baseOnly}`, { cause });
    const good: string[] = [];
    const bad: Refusal[] = [];
    // Halving: a group that checks out is kept whole; a refused single port is a culprit.
    const probe = async (ids: string[]): Promise<void> => {
      if (ids.length === 0) return;
      const message = await this.accepted(prev, this.withPorts(prev, next, [...good, ...ids]));
      if (message === undefined) {
        good.push(...ids);
        return;
      }
      if (ids.length === 1) {
        bad.push({ id: ids[0]!, message });
        return;
      }
      const half = Math.ceil(ids.length / 2);
      await probe(ids.slice(0, half));
      await probe(ids.slice(half));
    };
    await probe(changed);
    const wanted = this.withPorts(prev, next, good);
    await this.nft(nftScript(this.table, prev, wanted));
    this.last = wanted;
    for (const id of good) this.refused.delete(id);
    for (const b of bad) this.refused.set(b.id, fragmentKey(next.ports.get(b.id)));
    return bad;
  }
}
