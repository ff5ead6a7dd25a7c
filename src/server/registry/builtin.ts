/**
 * The built-in resources edgeos serves, one per served version of each kind descriptor
 * (src/server/kinds/builtin.ts), with the discovery facts kubectl relies on (kubectl-wire.md §1:
 * verbs, shortNames, categories and subresources must all be present).
 */
import { BUILTIN_KINDS, isNone, present } from '../kinds/index.ts';
import type { BuiltinKind } from '../kinds/index.ts';
import type { ResourceInfo } from './types.ts';

function resourceOf(k: BuiltinKind, version: string): ResourceInfo {
  const ttlSeconds = present(k.ttlSeconds);
  return {
    group: k.group,
    version,
    kind: k.kind,
    listKind: `${k.kind}List`,
    plural: k.plural,
    singular: k.kind.toLowerCase(),
    namespaced: k.namespaced,
    shortNames: k.shortNames,
    categories: k.categories,
    verbs: k.verbs,
    subresources: k.subresources,
    storage: k.storage,
    tracksGeneration: k.tracksGeneration,
    keepStatusOnCreate: k.keepStatusOnCreate,
    virtual: !isNone(k.computed),
    ...(ttlSeconds ? { ttlSeconds } : {}),
    custom: false,
    builtin: k,
  };
}

export function builtinResources(): ResourceInfo[] {
  return BUILTIN_KINDS.flatMap((k) => k.versions.map((v) => resourceOf(k, v)));
}
