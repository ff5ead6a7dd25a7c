/**
 * The Prometheus text exposition format (version 0.0.4), which is what a kubelet's /metrics
 * endpoints answer. A handful of families built on demand need no client library: a family is
 * HELP, TYPE and its samples; label values are escaped as the format requires. Why not
 * prom-client in the agent: docs/metrics.md, "The agents' metrics".
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Sample {
  /** Appended to the family's name: a histogram's `_bucket`, `_sum` and `_count` series. */
  readonly suffix?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
  /** ms since epoch; the kubelet's resource metrics carry the time they were read. */
  readonly timestampMs?: number;
}

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly Sample[];
}

const escapeLabel = (v: string): string => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
const escapeHelp = (v: string): string => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function exposition(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${s.suffix ?? ''}${l} ${formatValue(s.value)}${s.timestampMs !== undefined ? ` ${Math.round(s.timestampMs)}` : ''}`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * A histogram with fixed upper bounds: counts per bucket, sum and count, rendered cumulatively
 * with `le` labels and `+Inf` as the format requires.
 */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    const i = this.#bounds.findIndex((b) => v <= b);
    if (i >= 0) this.#counts[i]! += 1;
    this.#sum += v;
    this.#count += 1;
  }

  samples(labels: Readonly<Record<string, string>> = {}): Sample[] {
    let cumulative = 0;
    const out: Sample[] = this.#bounds.map((b, i) => {
      cumulative += this.#counts[i]!;
      return { suffix: '_bucket', labels: { ...labels, le: String(b) }, value: cumulative };
    });
    out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: this.#count });
    out.push({ suffix: '_sum', labels, value: this.#sum }, { suffix: '_count', labels, value: this.#count });
    return out;
  }
}

/** Prometheus's default buckets (client_golang DefBuckets), which the kubelet's PLEG and pod worker histograms use. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `count` buckets from `start`, each `factor` times the previous (client_golang ExponentialBuckets). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number((start * factor ** i).toPrecision(6)));
}
