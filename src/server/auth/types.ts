/**
 * Authentication and authorization contracts of the API server, shaped like Kubernetes'
 * authenticator.Request and authorizer.Attributes so RBAC and the Node authorizer map directly.
 */
import type { IncomingMessage } from 'node:http';

export interface UserInfo {
  /** e.g. "admin", "system:node:gw-1", "system:serviceaccount:ns:name". */
  readonly name: string;
  readonly uid?: string;
  /** e.g. ["system:masters"], ["system:nodes"], ["system:authenticated"]. */
  readonly groups: readonly string[];
}

export interface Authenticator {
  /** The user a request acts as, or undefined when it carries no (valid) credential. */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
}

/** What a request wants to do, as Kubernetes' authorizer sees it. */
export interface RequestAttributes {
  readonly user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection (resource requests) or the HTTP verb lower-cased (non-resource). */
  readonly verb: string;
  readonly resourceRequest: boolean;
  /** Non-resource requests: the URL path, e.g. /healthz. */
  readonly path: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /**
   * The raw `fieldSelector` query parameter of list/watch requests, when present. The Node
   * authorizer allows a node to list/watch pods only with `spec.nodeName=<itself>` and its Node only
   * with `metadata.name=<itself>` (apiserver's AuthorizeNodeWithSelectors, beta in 1.32); the API
   * must apply the same selector to what it returns.
   */
  readonly fieldSelector?: string;
}

export interface Decision {
  readonly allowed: boolean;
  /** Why, for the 403 message (never contains secrets). */
  readonly reason: string;
}

export interface Authorizer {
  authorize(attrs: RequestAttributes): Promise<Decision>;
  /** What `user` may do in `namespace` (cluster-wide rules included): SelfSubjectRulesReview, `kubectl auth can-i --list`. */
  rulesFor(user: UserInfo, namespace: string): Promise<RuleSet>;
}

/** authorization.k8s.io/v1 ResourceRule / NonResourceRule. */
export interface ResourceRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
}
export interface NonResourceRule {
  readonly verbs: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

/** An authorizer's rules for a user, as apiserver's RuleResolver returns them. */
export interface RuleSet {
  readonly resourceRules: readonly ResourceRule[];
  readonly nonResourceRules: readonly NonResourceRule[];
  /** Some authorizer could not list its rules: the lists may lack what it would allow. */
  readonly incomplete: boolean;
  /** Why the lists may be incomplete (a missing role, an authorizer without rule listing). */
  readonly errors: readonly string[];
}

/**
 * What an authenticator found, keeping apart the two cases `authenticate` folds into undefined:
 * apiserver treats a request with no credential as anonymous, but one with a credential that fails
 * (unknown token, certificate from another CA) gets 401 on every path, even /healthz.
 */
export type AuthenticationResult =
  | { readonly kind: 'user'; readonly user: UserInfo }
  | { readonly kind: 'anonymous' }
  /** `reason` is for the server log, never for the client and never the credential itself. */
  | { readonly kind: 'rejected'; readonly reason: string };

export interface CredentialAuthenticator extends Authenticator {
  identify(req: IncomingMessage): Promise<AuthenticationResult>;
}
