import { describe, expect, it } from 'vitest';
import { patchTypeFromContentType } from '../../../src/server/patch/index.ts';

describe('patchTypeFromContentType', () => {
  it.each([
    ['application/json-patch+json', 'json'],
    ['application/merge-patch+json', 'merge'],
    ['application/strategic-merge-patch+json', 'strategic'],
    ['application/apply-patch+yaml', 'apply'],
    ['application/apply-patch+yaml; charset=utf-8', 'apply'],
    ['Application/Merge-Patch+JSON ;charset=UTF-8', 'merge'],
  ])('%s → %s', (ct, type) => {
    expect(patchTypeFromContentType(ct)).toBe(type);
  });

  it.each([[undefined], [''], ['application/json'], ['application/vnd.kubernetes.protobuf'], ['text/plain']])(
    '%s is not a patch type',
    (ct) => {
      expect(patchTypeFromContentType(ct)).toBeUndefined();
    },
  );
});
