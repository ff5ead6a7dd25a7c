/**
 * What the node feed carries and where it lives in the store: pods, the node's Node, and the
 * Secrets, ConfigMaps and ServiceAccounts pods reference (the Node authorizer's rules).
 */
import type { LinkKind } from '../../common/link/protocol.ts';
import { ResourceRegistry } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';

export const REFERENCED: readonly { kind: LinkKind; plural: string; refs: 'secrets' | 'configmaps' | 'serviceaccounts' }[] = [
  { kind: 'Secret', plural: 'secrets', refs: 'secrets' },
  { kind: 'ConfigMap', plural: 'configmaps', refs: 'configmaps' },
  { kind: 'ServiceAccount', plural: 'serviceaccounts', refs: 'serviceaccounts' },
];

export interface FeedKinds {
  readonly pods: ResourceInfo;
  readonly nodes: ResourceInfo;
  readonly byKind: Map<LinkKind, ResourceInfo>;
  readonly podsPrefix: string;
  /** A Node's key is this + its name. */
  readonly nodesPrefix: string;
  readonly refPrefixes: readonly { kind: LinkKind; prefix: string }[];
}

export function feedKinds(): FeedKinds {
  const registry = new ResourceRegistry();
  const must = (plural: string) => {
    const r = registry.resolve('', 'v1', plural);
    if (!r) throw new Error(`built-in resource ${plural} is missing from the registry`);
    return r;
  };
  const byKind = new Map<LinkKind, ResourceInfo>([
    ['Pod', must('pods')],
    ['Node', must('nodes')],
    ...REFERENCED.map((x) => [x.kind, must(x.plural)] as [LinkKind, ResourceInfo]),
  ]);
  const prefix = (r: ResourceInfo) => `/registry/${r.storage}/`;
  return {
    pods: must('pods'),
    nodes: must('nodes'),
    byKind,
    podsPrefix: prefix(must('pods')),
    nodesPrefix: prefix(must('nodes')),
    refPrefixes: REFERENCED.map((x) => ({ kind: x.kind, prefix: prefix(byKind.get(x.kind)!) })),
  };
}
