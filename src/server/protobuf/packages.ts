/**
 * Where the protobuf message of a built-in kind lives, and the compact form of the generated
 * definitions (schema/messages.generated.json, written by scripts/gen-protobuf.ts from upstream's
 * generated.proto and Go structs).
 */

import type { ProtobufOrigin } from '../kinds/types.ts';

/**
 * The proto package of a group/version: k8s.io/api names it after the group's first label
 * (`rbac.authorization.k8s.io` → `k8s.io.api.rbac.v1`, the core group → `core`).
 */
export function protoPackage(origin: ProtobufOrigin, group: string, version: string): string {
  if (origin === 'k8s.io/apiextensions-apiserver') return `k8s.io.apiextensions_apiserver.pkg.apis.${group.split('.')[0]}.${version}`;
  return `k8s.io.api.${group === '' ? 'core' : group.split('.')[0]}.${version}`;
}

/**
 * Bodies that are no served kind's: DeleteOptions (drain's DELETE fallback sends it as v1, the
 * API's own group version is meta.k8s.io/v1), TokenRequest (`kubectl create token`), and the
 * v1beta1 SelfSubjectReview, whose message upstream is v1's under another package.
 */
export const EXTRA_MESSAGES: readonly { readonly apiVersion: string; readonly kind: string; readonly message: string }[] = [
  { apiVersion: 'v1', kind: 'DeleteOptions', message: 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions' },
  { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', message: 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions' },
  { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', message: 'k8s.io.api.authentication.v1.TokenRequest' },
  // v1beta1's SelfSubjectReview (kubectl 1.27's whoami) has v1's fields and numbers.
  { apiVersion: 'authentication.k8s.io/v1beta1', kind: 'SelfSubjectReview', message: 'k8s.io.api.authentication.v1.SelfSubjectReview' },
];

/**
 * One field: [proto name, number, type, flags, JSON name when it differs]. The type is a scalar,
 * an absolute message name (".k8s.io.api.core.v1.PodSpec") or `map:<key>:<value>`. Flags: `r`
 * repeated; `k` the zero value is kept in JSON (a Go pointer, or a field without omitempty); `i`
 * an embedded struct whose fields JSON flattens into the parent.
 */
export type GeneratedField = [string, number, string, string] | [string, number, string, string, string];

export interface GeneratedMessage {
  readonly fields: GeneratedField[];
  /** A Go slice type wrapped for protobuf (`type ExtraValue []string`): JSON is its `items`. */
  readonly list?: true;
}

export type GeneratedMessages = Record<string, GeneratedMessage>;
