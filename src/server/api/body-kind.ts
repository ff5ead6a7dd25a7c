import type { KubeObject } from '../kinds/types.ts';
import type { GroupVersionKind } from '../registry/index.ts';
import { groupVersion } from '../registry/index.ts';
import { badRequest } from '../storage/status.ts';

/**
 * The body's apiVersion/kind must be the endpoint's; missing ones are filled in from the URL, as
 * apiserver's decoder does with its default GroupVersionKind.
 */
export function checkBodyKind(obj: KubeObject, expected: GroupVersionKind): void {
  const gv = groupVersion(expected.group, expected.version);
  if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = gv;
  if (obj.kind === undefined || obj.kind === '') obj.kind = expected.kind;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') throw badRequest("couldn't get version/kind; json parse error: apiVersion and kind must be strings");
  if (obj.kind !== expected.kind) {
    throw badRequest(`${obj.kind} in version "${obj.apiVersion}" cannot be handled as a ${expected.kind}: the object kind does not match the request (expected ${expected.kind})`);
  }
  if (obj.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
  }
}
