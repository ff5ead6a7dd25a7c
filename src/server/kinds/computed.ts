/**
 * Resources computed on each request and never stored: metrics.k8s.io PodMetrics and NodeMetrics
 * from the usage agents report over their links (kubectl-wire.md §13, `kubectl top`), and the
 * identity and access reviews (`kubectl auth whoami`, `kubectl auth can-i` and its `--list`,
 * SubjectAccessReview and LocalSubjectAccessReview for another user, TokenReview). The API handler their descriptor names answers them; nothing of the write
 * strategy applies.
 */
import { K8S_API_PROTO, defineKind } from './define.ts';
import { none } from './types.ts';
import type { BuiltinKind, ComputedSource, None, ProtobufOrigin } from './types.ts';

const COMPUTED = none('computed on each request, never stored');

interface Computed {
  readonly group: string;
  readonly version: string;
  /** Older versions still served with the same shape (kubectl 1.27 asks whoami at v1beta1). */
  readonly olderVersions?: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly computed: ComputedSource;
  readonly protobuf: ProtobufOrigin | None;
}

function computedKind(c: Computed): BuiltinKind {
  return defineKind({
    group: c.group,
    versions: [c.version, ...(c.olderVersions ?? [])],
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
    protobuf: c.protobuf,
    conversion: COMPUTED,
  });
}

// metrics.k8s.io's messages are k8s.io/metrics', and nobody sends them: they are only read.
const METRICS = { group: 'metrics.k8s.io', version: 'v1beta1', verbs: ['get', 'list'], protobuf: none('read only: no client sends metrics.k8s.io objects') } as const;
// kubectl auth can-i and whoami send their reviews as protobuf.
const REVIEW = { version: 'v1', namespaced: false, verbs: ['create'], protobuf: K8S_API_PROTO } as const;

export const podMetrics = computedKind({ ...METRICS, kind: 'PodMetrics', plural: 'pods', namespaced: true, computed: 'pod-metrics' });
export const nodeMetrics = computedKind({ ...METRICS, kind: 'NodeMetrics', plural: 'nodes', namespaced: false, computed: 'node-metrics' });
export const selfSubjectAccessReview = computedKind({
  ...REVIEW, group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', computed: 'self-subject-access-review',
});
export const localSubjectAccessReview = computedKind({
  ...REVIEW, group: 'authorization.k8s.io', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', namespaced: true, computed: 'local-subject-access-review',
});
export const selfSubjectRulesReview = computedKind({
  ...REVIEW, group: 'authorization.k8s.io', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', computed: 'self-subject-rules-review',
});
export const subjectAccessReview = computedKind({
  ...REVIEW, group: 'authorization.k8s.io', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', computed: 'subject-access-review',
});
export const selfSubjectReview = computedKind({
  ...REVIEW, group: 'authentication.k8s.io', olderVersions: ['v1beta1'], kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', computed: 'self-subject-review',
});
export const tokenReview = computedKind({
  ...REVIEW, group: 'authentication.k8s.io', kind: 'TokenReview', plural: 'tokenreviews', computed: 'token-review',
});
