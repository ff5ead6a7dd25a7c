/**
 * Resource quantities for cgroup limits, QoS and resourceFieldRef, on top of the one parser the
 * API server validates with (src/common/quantity.ts).
 */
import { parseQuantity as parseShared } from '../../common/quantity.ts';

/** The quantity's value in base units; throws on a malformed quantity. */
export function parseQuantity(q: string | number): number {
  try {
    return parseShared(typeof q === 'string' ? q.trim() : q);
  } catch (err) {
    throw new Error(`invalid quantity "${q}": ${(err as Error).message}`, { cause: err });
  }
}

/** CPU in millicores, rounded up like resource.Quantity.MilliValue. */
export function milliCpu(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

export function bytes(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) - 1e-9);
}
