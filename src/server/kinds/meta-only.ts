/**
 * Validation for kinds whose spec edgeos does not check beyond ObjectMeta (their controllers are
 * outside edgeos or the API takes any spec): the upstream name rule of each kind still applies.
 */
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { NameRule } from './names.ts';
import type { FieldError, KubeObject } from './types.ts';

export function metaValidator(namespaced: boolean, rule: NameRule = 'subdomain'): (obj: KubeObject, old: KubeObject | undefined) => FieldError[] {
  return (obj, old) => (old ? validateObjectMetaUpdate(obj, old, namespaced, rule) : validateObjectMeta(obj, namespaced, rule));
}
