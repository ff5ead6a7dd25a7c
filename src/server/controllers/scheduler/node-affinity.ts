// nodeSelector and required node affinity (component-helpers' nodeaffinity.RequiredNodeAffinity):
// every nodeSelector label must match, and at least one nodeSelectorTerm must match; a term's
// requirements are ANDed; matchFields supports metadata.name only, as upstream.
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from '../core-types.ts';

function requirementMatches(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value as string);
    case 'NotIn':
      return !has || !values.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // Both sides must parse as integers, else the requirement does not match (upstream parses with ParseInt).
      if (!has || values.length !== 1 || !/^-?\d+$/.test(value as string) || !/^-?\d+$/.test(values[0] as string)) return false;
      const a = BigInt(value as string);
      const b = BigInt(values[0] as string);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term matches nothing (nodeaffinity: "a null or empty node selector term matches no objects").
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  if (!exprs.every((r) => requirementMatches(r, labels))) return false;
  const fieldSet = { 'metadata.name': node.metadata.name ?? '' };
  return fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, fieldSet));
}

/** At least one term matches (a PersistentVolume's nodeAffinity, a pod's required affinity). */
export function matchesNodeSelectorTerms(terms: readonly NodeSelectorTerm[], node: Node): boolean {
  return terms.some((t) => termMatches(t, node));
}

export function matchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return matchesNodeSelectorTerms(terms, node);
}
