// The hand-written histogram (src/server/metrics/text-histogram.ts) against prom-client's: the same
// observations must give the same samples, so dashboards cannot tell which one wrote them.
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TextHistogram } from '../../../src/server/metrics/text-histogram.ts';

const BUCKETS = [0.005, 0.025, 0.1, 1, 10];
const LABELS = ['verb', 'resource'];

/** Samples as name, sorted labels and value (the two libraries order series and labels differently; Prometheus does not care). */
const samples = (text: string) =>
  text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(l);
    if (!m) return l;
    const labels = [...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => `${x[1]}=${x[2]}`).sort();
    return `${m[1]} ${labels.join(',')} ${m[3]}`;
  }).sort();

describe('TextHistogram', () => {
  it('writes what prom-client writes for the same observations: cumulative buckets, +Inf, sum, count, escaped labels', async () => {
    const registry = new Registry();
    const reference = new Histogram({ name: 'x_seconds', help: 'h', labelNames: LABELS, buckets: BUCKETS, registers: [registry] });
    const ours = new TextHistogram({ name: 'x_seconds', help: 'h', labelNames: LABELS, buckets: BUCKETS });
    const observations: [string, string, number][] = [
      ['GET', 'pods', 0.001], ['GET', 'pods', 0.005], ['GET', 'pods', 0.02], ['GET', 'pods', 50],
      ['LIST', 'nodes', 0.3], ['LIST', 'nodes', 1], ['POST', 'a"b\\c\nd', 0.2], ['WATCH', '', 7],
    ];
    for (const [verb, resource, v] of observations) {
      reference.observe({ verb, resource }, v);
      ours.observe([verb, resource], v);
    }
    const text = ours.render();
    expect(text.startsWith('# HELP x_seconds h\n# TYPE x_seconds histogram\n')).toBe(true);
    expect(samples(text)).toEqual(samples(await registry.metrics()));
    expect(text).toContain('x_seconds_bucket{verb="GET",resource="pods",le="+Inf"} 4\n');
    expect(text).toContain('x_seconds_bucket{verb="GET",resource="pods",le="0.005"} 2\n');
    expect(ours.seriesCount).toBe(4);
  });

  it('refuses buckets that do not increase and label values that do not match the names', () => {
    expect(() => new TextHistogram({ name: 'y', help: 'h', labelNames: [], buckets: [1, 1] })).toThrow(/increase/);
    const h = new TextHistogram({ name: 'y', help: 'h', labelNames: ['a'], buckets: [1] });
    expect(() => h.observe([], 1)).toThrow(/label/);
  });
});
