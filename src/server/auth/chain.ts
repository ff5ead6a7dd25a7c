// Authorizers in order, like apiserver's union authorizer: the first that allows or denies
// decides; "no opinion" passes the request on. When nobody allows, the reasons collected on the
// way become the tail of the 403 message.
import type { Logger } from '../../common/log.ts';
import type { Authorizer, Decision, RequestAttributes } from './types.ts';

export interface Verdict {
  readonly decision: 'allow' | 'deny' | 'no-opinion';
  readonly reason: string;
}

export interface ChainLink {
  readonly name: string;
  authorize(attrs: RequestAttributes): Promise<Verdict>;
}

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
  };
}

/** system:masters may do anything, before any other authorizer runs (apiserver's privileged group). */
export const MASTERS_GROUP = 'system:masters';

export const mastersAuthorizer: ChainLink = {
  name: 'masters',
  async authorize(attrs) {
    return attrs.user.groups.includes(MASTERS_GROUP) ? allow() : noOpinion();
  },
};
