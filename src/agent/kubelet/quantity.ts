/**
 * Kubernetes resource quantities ("100m", "1.5", "512Mi", "1G", "2e3") as numbers, enough for
 * cgroup limits, QoS and resourceFieldRef. Binary suffixes are powers of 1024, decimal ones powers
 * of 1000 (apimachinery resource.Quantity).
 */
const suffixes: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const re = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/** The quantity's value in base units; throws on a malformed quantity. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = re.exec(q.trim());
  if (!m) throw new Error(`invalid quantity "${q}"`);
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * suffixes[m[3] ?? '']!;
}

/** CPU in millicores, rounded up like resource.Quantity.MilliValue. */
export function milliCpu(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

export function bytes(q: string | number | undefined): number {
  return q === undefined ? 0 : Math.ceil(parseQuantity(q) - 1e-9);
}
