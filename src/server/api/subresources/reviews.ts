/**
 * Access and identity reviews, answered from the authorizer and the request's user and never
 * stored: SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview (for another user,
 * as the apiserver's delegated authorization uses it) and SelfSubjectReview (`kubectl auth whoami`).
 */
import type { RequestAttributes, UserInfo } from '../../auth/types.ts';
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import type { ApiDeps, Call } from '../context.ts';
import { writeJson } from '../respond.ts';
import { badRequest } from '../../storage/status.ts';

type Json = Record<string, unknown>;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function attributes(user: UserInfo, spec: Json): RequestAttributes {
  const ra = (spec.resourceAttributes ?? undefined) as Json | undefined;
  const na = (spec.nonResourceAttributes ?? undefined) as Json | undefined;
  if (ra) {
    return {
      user, verb: str(ra.verb), resourceRequest: true, path: '', apiGroup: str(ra.group), apiVersion: str(ra.version),
      resource: str(ra.resource), subresource: str(ra.subresource), namespace: str(ra.namespace), name: str(ra.name),
    };
  }
  if (na) {
    return { user, verb: str(na.verb), resourceRequest: false, path: str(na.path), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  }
  throw badRequest('spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
}

/** Which review a request creates: the kind descriptor's computed source. */
export type ReviewKind = 'self-subject-review' | 'self-subject-access-review' | 'subject-access-review';

export async function createReview(d: ApiDeps, c: Call, review: ReviewKind): Promise<void> {
  const r = c.resource;
  const body = await decodeObject(await readBody(c.req), mediaType(c.req));
  checkBodyKind(body, r);
  const spec = (body.spec ?? {}) as Json;
  if (review === 'self-subject-review') {
    const userInfo: Json = { username: c.user.name, groups: c.user.groups };
    if (c.user.uid) userInfo.uid = c.user.uid;
    writeJson(c.res, 201, { ...body, metadata: body.metadata ?? {}, status: { userInfo } });
    return;
  }
  let user = c.user;
  if (review === 'subject-access-review') {
    if (!str(spec.user) && !Array.isArray(spec.groups)) throw badRequest('spec.user: Invalid value: "": at least one of user or group must be specified');
    user = { name: str(spec.user), groups: Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [], uid: str(spec.uid) || undefined };
  }
  const decision = await d.authorizer.authorize(attributes(user, spec));
  const status: Json = { allowed: decision.allowed };
  if (decision.reason) status.reason = decision.reason;
  if (!decision.allowed) status.denied = false;
  writeJson(c.res, 201, { ...body, metadata: body.metadata ?? {}, status }, { warnings: c.warnings });
}
