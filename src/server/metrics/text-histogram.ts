/**
 * A labelled histogram written straight into the Prometheus text format, for the two families a
 * scrape is mostly made of: apiserver_request_duration_seconds and
 * edgeos_store_request_duration_seconds (23 buckets per series, ~150 series on a busy server).
 *
 * Through prom-client these two were nine tenths of a scrape's time: its `get()` builds an object
 * per bucket per series (labels copied, `le` added) and the registry then escapes and formats each
 * one, every scrape — 90–440 ms for 430 kB on the shared 2-core machine (docs/metrics.md). Here a
 * series is created once with its label text already escaped and its 24 line prefixes built; an
 * observation is a bucket search and two additions; a scrape is one loop of concatenations.
 */

// The text format's label value escaping.
const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** `0.005` → "0.005", `Infinity` → "+Inf", as the text format writes `le`. */
const formatLe = (b: number): string => (b === Infinity ? '+Inf' : String(b));

interface Series {
  /** `name_bucket{labels,le="…"} ` per bucket including +Inf. */
  readonly bucketPrefixes: readonly string[];
  readonly sumPrefix: string;
  readonly countPrefix: string;
  /** Observations per bucket (not cumulative); the last is +Inf only. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class TextHistogram {
  readonly name: string;
  readonly #help: string;
  readonly #labelNames: readonly string[];
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(o: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] }) {
    if (o.buckets.some((b, i) => i > 0 && b <= o.buckets[i - 1]!)) throw new Error(`${o.name}: buckets must increase`);
    this.name = o.name;
    this.#help = o.help;
    this.#labelNames = o.labelNames;
    this.#buckets = o.buckets;
  }

  /** Values in the order of labelNames. */
  observe(labelValues: readonly string[], value: number): void {
    const key = labelValues.join('\u0000');
    let s = this.#series.get(key);
    if (!s) {
      s = this.#newSeries(labelValues);
      this.#series.set(key, s);
    }
    // Few buckets: a linear search is as fast as a binary one and simpler.
    let i = 0;
    const b = this.#buckets;
    while (i < b.length && value > b[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** A timer for `labelValues`: call the result when the operation ends. */
  startTimer(labelValues: readonly string[]): () => void {
    const t0 = performance.now();
    return () => this.observe(labelValues, (performance.now() - t0) / 1000);
  }

  get seriesCount(): number {
    return this.#series.size;
  }

  #newSeries(labelValues: readonly string[]): Series {
    if (labelValues.length !== this.#labelNames.length) throw new Error(`${this.name}: ${labelValues.length} label values for ${this.#labelNames.length} labels`);
    const labels = this.#labelNames.map((n, i) => `${n}="${escapeLabel(labelValues[i]!)}"`).join(',');
    const sep = labels ? ',' : '';
    return {
      bucketPrefixes: [...this.#buckets, Infinity].map((b) => `${this.name}_bucket{${labels}${sep}le="${formatLe(b)}"} `),
      sumPrefix: `${this.name}_sum${labels ? `{${labels}}` : ''} `,
      countPrefix: `${this.name}_count${labels ? `{${labels}}` : ''} `,
      counts: new Float64Array(this.#buckets.length + 1),
      sum: 0,
      count: 0,
    };
  }

  /** The family in the text format: HELP, TYPE, then per series cumulative buckets, sum and count. */
  render(): string {
    const out: string[] = [`# HELP ${this.name} ${this.#help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} histogram\n`];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < s.counts.length; i++) {
        cumulative += s.counts[i]!;
        out.push(`${s.bucketPrefixes[i]}${cumulative}\n`);
      }
      out.push(`${s.sumPrefix}${s.sum}\n${s.countPrefix}${s.count}\n`);
    }
    return out.join('');
  }
}
