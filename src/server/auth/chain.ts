// Authorizers in order, like apiserver's union authorizer: the first that allows or denies
// decides; "no opinion" passes the request on. When nobody allows, the reasons collected on the
// way become the tail of the 403 message.
import type { Logger } from '../../common/log.ts';
import type { Authorizer, Decision, RequestAttributes, RuleSet, UserInfo } from './types.ts';

export interface Verdict {
  readonly decision: 'allow' | 'deny' | 'no-opinion';
  readonly reason: string;
}

export interface ChainLink {
  readonly name: string;
  authorize(attrs: RequestAttributes): Promise<Verdict>;
  /** This authorizer's rules for the user (union authorizer's RulesFor). */
  rulesFor(user: UserInfo, namespace: string): Promise<RuleSet>;
}

export const NO_RULES: RuleSet = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };

export const allow = (reason = ''): Verdict => ({ decision: 'allow', reason });
export const noOpinion = (reason = ''): Verdict => ({ decision: 'no-opinion', reason });

export function chainAuthorizers(links: readonly ChainLink[], log: Logger): Authorizer {
  return {
    async authorize(attrs: RequestAttributes): Promise<Decision> {
      const reasons: string[] = [];
      for (const link of links) {
        const v = await link.authorize(attrs);
        if (v.decision === 'allow') return { allowed: true, reason: v.reason };
        if (v.reason) reasons.push(v.reason);
        if (v.decision === 'deny') break;
      }
      const reason = reasons.join(', ');
      log.debug(
        { user: attrs.user.name, verb: attrs.verb, resource: attrs.resource, subresource: attrs.subresource, namespace: attrs.namespace, path: attrs.path, reason },
        'denied',
      );
      return { allowed: false, reason };
    },
    async rulesFor(user, namespace) {
      const sets = await Promise.all(links.map((l) => l.rulesFor(user, namespace)));
      return {
        resourceRules: sets.flatMap((s) => s.resourceRules),
        nonResourceRules: sets.flatMap((s) => s.nonResourceRules),
        incomplete: sets.some((s) => s.incomplete),
        errors: sets.flatMap((s) => s.errors),
      };
    },
  };
}

/** system:masters may do anything, before any other authorizer runs (apiserver's privileged group). */
export const MASTERS_GROUP = 'system:masters';

export const mastersAuthorizer: ChainLink = {
  name: 'masters',
  async authorize(attrs) {
    return attrs.user.groups.includes(MASTERS_GROUP) ? allow() : noOpinion();
  },
  // Upstream the group is cluster-admin's subject, so its rules are cluster-admin's.
  async rulesFor(user) {
    if (!user.groups.includes(MASTERS_GROUP)) return NO_RULES;
    return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false, errors: [] };
  },
};
