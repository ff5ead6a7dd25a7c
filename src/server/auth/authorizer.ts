import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';
import { chainAuthorizers, mastersAuthorizer } from './chain.ts';
import { createNodeAuthorizer } from './node-authorizer.ts';
import type { NodePods } from './node-pod-index.ts';
import { createRbacAuthorizer } from './rbac-authorizer.ts';
import type { Authorizer } from './types.ts';

/** apiserver's default order (`--authorization-mode=Node,RBAC` behind the privileged group). */
export function createAuthorizer(deps: { store: Store; log: Logger; nodePods?: NodePods }): Authorizer {
  return chainAuthorizers([mastersAuthorizer, createNodeAuthorizer(deps), createRbacAuthorizer(deps)], deps.log);
}
