import type { PatchType } from './types.ts';

// The media types kubectl sends for PATCH (k8s.io/apimachinery/pkg/types PatchType). Parameters such
// as `; charset=utf-8` are ignored, as the apiserver's negotiation does.
const byMediaType: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** The patch type of a PATCH request's Content-Type, or undefined when it is not a patch media type (API: 415). */
export function patchTypeFromContentType(ct: string | undefined): PatchType | undefined {
  if (ct === undefined) return undefined;
  const mediaType = ct.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return byMediaType[mediaType];
}
