import { describe, expect, it } from 'vitest';
import { formatLabelSelector, parseLabelSelector, selectorFromObject } from '../../../src/server/api/selectors/label-selector.ts';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', version: '3' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=db', false],
    ['app in (db, web)', true],
    ['app notin (db,web)', false],
    ['missing notin (a)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['version>2', true],
    ['version<3', false],
    ['missing!=x', true],
  ])('%j matches %s', (sel, want) => {
    expect(parseLabelSelector(sel).matches(labels)).toBe(want);
  });

  it.each([
    ['app=web,,', "unable to parse requirement: found ',', expected: !, identifier, or 'end of string'"],
    ['app in web', "unable to parse requirement: found 'web', expected: '('"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier after '!'"],
    ['x>y', "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer"],
  ])('%j is rejected with the parser message', (sel, message) => {
    expect(() => parseLabelSelector(sel)).toThrow(message);
  });

  it('rejects invalid keys and values in apimachinery terms', () => {
    expect(() => parseLabelSelector('-bad=x')).toThrow(/key: Invalid value: "-bad": name part must consist of alphanumeric characters/);
    expect(() => parseLabelSelector('a=-x-')).toThrow(/Invalid value: "-x-": a valid label must be an empty string or consist of alphanumeric/);
  });

  it('converts metav1.LabelSelector objects and formats them like Scale.status.selector', () => {
    const sel = selectorFromObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] });
    expect(sel.matches({ app: 'web', tier: 'a' })).toBe(true);
    expect(sel.matches({ app: 'web', tier: 'c' })).toBe(false);
    expect(formatLabelSelector(sel)).toBe('app=web,tier in (a,b)');
  });
});
