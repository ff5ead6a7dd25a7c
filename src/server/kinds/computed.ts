/**
 * Resources computed on each request and never stored: metrics.k8s.io PodMetrics and NodeMetrics
 * from the usage agents report over their links (kubectl-wire.md §13, `kubectl top`), and the
 * identity and access reviews (`kubectl auth whoami`, `kubectl auth can-i`, SubjectAccessReview for
 * another user). The API handler their descriptor names answers them; nothing of the write
 * strategy applies.
 */
import { NO_PROTOBUF, defineKind } from './define.ts';
import { none } from './types.ts';
import type { BuiltinKind, ComputedSource } from './types.ts';

const COMPUTED = none('computed on each request, never stored');

interface Computed {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly computed: ComputedSource;
}

function computedKind(c: Computed): BuiltinKind {
  return defineKind({
    group: c.group,
    versions: [c.version],
    kind: c.kind,
    plural: c.plural,
    namespaced: c.namespaced,
    shortNames: [],
    categories: [],
    verbs: c.verbs,
    subresources: [],
    ttlSeconds: COMPUTED,
    tracksGeneration: false,
    keepStatusOnCreate: false,
    computed: c.computed,
    defaults: COMPUTED,
    validate: COMPUTED,
    table: COMPUTED,
    hooks: COMPUTED,
    deletion: COMPUTED,
    fieldSelectors: COMPUTED,
    mergeKeys: COMPUTED,
    protobuf: NO_PROTOBUF,
    conversion: COMPUTED,
  });
}

const METRICS = { group: 'metrics.k8s.io', version: 'v1beta1', verbs: ['get', 'list'] } as const;
const REVIEW = { version: 'v1', namespaced: false, verbs: ['create'] } as const;

export const podMetrics = computedKind({ ...METRICS, kind: 'PodMetrics', plural: 'pods', namespaced: true, computed: 'pod-metrics' });
export const nodeMetrics = computedKind({ ...METRICS, kind: 'NodeMetrics', plural: 'nodes', namespaced: false, computed: 'node-metrics' });
export const selfSubjectAccessReview = computedKind({
  ...REVIEW, group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', computed: 'self-subject-access-review',
});
export const subjectAccessReview = computedKind({
  ...REVIEW, group: 'authorization.k8s.io', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', computed: 'subject-access-review',
});
export const selfSubjectReview = computedKind({
  ...REVIEW, group: 'authentication.k8s.io', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', computed: 'self-subject-review',
});
