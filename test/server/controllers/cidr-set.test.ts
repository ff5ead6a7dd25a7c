// The node-ipam controller's bookkeeping (src/server/controllers/node-ipam/cidr-set.ts): lowest free
// block first, a released block is handed out again before higher ones, an occupied one never.
import { describe, expect, it } from 'vitest';
import { CidrSet } from '../../../src/server/controllers/node-ipam/cidr-set.ts';

describe('CidrSet', () => {
  it('gives the lowest free block, again after a release, and skips blocks nodes already hold', () => {
    const s = new CidrSet('10.99.0.0/22', 24);
    expect(s.size).toBe(4);
    expect(s.occupy('b', '10.99.1.0/24')).toEqual({ ok: true });
    expect(s.allocate('a')).toBe('10.99.0.0/24');
    expect(s.allocate('c')).toBe('10.99.2.0/24');
    expect(s.allocate('a')).toBe('10.99.0.0/24');
    s.release('a');
    expect(s.allocate('d')).toBe('10.99.0.0/24');
    expect(s.allocate('e')).toBe('10.99.3.0/24');
    expect(s.allocate('f')).toBeUndefined();
    s.release('c');
    expect(s.allocate('f')).toBe('10.99.2.0/24');
    expect(s.occupy('g', '10.99.2.0/24')).toEqual({ ok: false, reason: "10.99.2.0/24 is already node f's" });
    // A node moved to another block (its podCIDR as stored) frees its old one.
    s.release('e');
    expect(s.occupy('d', '10.99.3.0/24')).toEqual({ ok: true });
    expect(s.allocate('h')).toBe('10.99.0.0/24');
    expect(s.used).toBe(4);
  });

  it('sizes a cluster of 10,000 nodes: a /9 in /24s, every block distinct', () => {
    const s = new CidrSet('10.128.0.0/9', 24);
    expect(s.size).toBe(32768);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(s.allocate(`n${i}`)!);
    expect(seen.size).toBe(10_000);
    expect(s.of('n9999')).toBe('10.167.15.0/24');
    s.release('n5000');
    expect(s.allocate('late')).toBe('10.147.136.0/24');
    expect(s.allocate('later')).toBe('10.167.16.0/24');
  });
});
