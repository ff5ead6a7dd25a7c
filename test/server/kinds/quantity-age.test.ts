import { describe, expect, it } from 'vitest';
import { ageSince, humanDuration } from '../../../src/server/kinds/age.ts';
import { QUANTITY_FORMAT_ERROR, isQuantity, parseQuantity, quantityError } from '../../../src/common/quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['1.5', 1.5],
    ['250m', 0.25],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['500k', 5e5],
    ['2e3', 2000],
    ['1E-3', 0.001],
    ['-1', -1],
    ['10n', 1e-8],
    ['300u', 0.0003],
    ['.5', 0.5],
  ])('%s → %d', (text, want) => {
    expect(parseQuantity(text)).toBeCloseTo(want, 12);
  });

  it.each([
    ['', QUANTITY_FORMAT_ERROR],
    ['abc', QUANTITY_FORMAT_ERROR],
    ['1 Gi', QUANTITY_FORMAT_ERROR],
    ['1Gb', QUANTITY_FORMAT_ERROR],
    ['1KiB', QUANTITY_FORMAT_ERROR],
    ['1Ki1', "unable to parse quantity's suffix"],
    ['1mm', "unable to parse quantity's suffix"],
    ['1.2.3', 'unable to parse numeric part of quantity'],
  ])('rejects %j', (text, message) => {
    expect(quantityError(text)).toBe(message);
    expect(() => parseQuantity(text)).toThrow(message);
    expect(isQuantity(text)).toBe(false);
  });

  it('numbers pass through', () => {
    expect(parseQuantity(2)).toBe(2);
    expect(isQuantity(0.5)).toBe(true);
  });
});

describe('humanDuration (duration.HumanDuration)', () => {
  it.each([
    [-5_000, '<invalid>'],
    [-1_500, '0s'],
    [0, '0s'],
    [5_000, '5s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [184_000, '3m4s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3600_000, '3h'],
    [5 * 3600_000 + 3 * 60_000, '5h3m'],
    [8 * 3600_000, '8h'],
    [47 * 3600_000, '47h'],
    [51 * 3600_000, '2d3h'],
    [3 * 86400_000, '3d'],
    [30 * 86400_000, '30d'],
    [(2 * 365 + 20) * 86400_000, '2y20d'],
    [9 * 365 * 86400_000, '9y'],
  ])('%d ms → %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it('ageSince handles missing and bad timestamps like translateTimestampSince', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    expect(ageSince('2026-01-01T00:00:00Z', now)).toBe('60s');
    expect(ageSince(undefined, now)).toBe('<unknown>');
    expect(ageSince('not a time', now)).toBe('<unknown>');
  });
});
