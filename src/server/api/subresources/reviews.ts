/**
 * Access and identity reviews, answered from the authorizer, the authenticator and the request's
 * user, never stored (pkg/registry/authorization and authentication upstream):
 * SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`),
 * SubjectAccessReview and LocalSubjectAccessReview (for another user: `can-i --as` is an
 * impersonated SelfSubjectAccessReview instead), SelfSubjectReview (`kubectl auth whoami`) and
 * TokenReview (is this token valid, and whose is it: the server's own authenticator decides).
 */
import type { IncomingMessage } from 'node:http';
import type { RequestAttributes, UserInfo } from '../../auth/types.ts';
import type { ComputedSource, KubeObject } from '../../kinds/types.ts';
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import type { ApiDeps, Call } from '../context.ts';
import { writeJson } from '../respond.ts';
import { badRequest, invalid } from '../../storage/status.ts';

type Json = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : []);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** ValidateSubjectAccessReviewSpec: exactly one of resourceAttributes and nonResourceAttributes. */
function attributes(kind: string, user: UserInfo, spec: Json): RequestAttributes {
  const ra = obj(spec.resourceAttributes);
  const na = obj(spec.nonResourceAttributes);
  if (ra && na) throw invalid(kind, 'authorization.k8s.io', '', [{ reason: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', message: 'Invalid value: "": cannot be specified in combination with resourceAttributes' }]);
  if (ra) {
    return {
      user, verb: str(ra.verb), resourceRequest: true, path: '', apiGroup: str(ra.group), apiVersion: str(ra.version),
      resource: str(ra.resource), subresource: str(ra.subresource), namespace: str(ra.namespace), name: str(ra.name),
    };
  }
  if (na) return { user, verb: str(na.verb), resourceRequest: false, path: str(na.path), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  throw invalid(kind, 'authorization.k8s.io', '', [{ reason: 'FieldValueInvalid', field: 'spec.resourceAttributes', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
}

function userInfoJson(user: UserInfo): Json {
  return { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: [...user.groups] };
}

async function accessReview(d: ApiDeps, c: Call, body: KubeObject, review: ComputedSource): Promise<Json> {
  const spec = obj(body.spec) ?? {};
  let user = c.user;
  if (review === 'subject-access-review' || review === 'local-subject-access-review') {
    if (!str(spec.user) && strings(spec.groups).length === 0) {
      throw invalid(body.kind ?? '', 'authorization.k8s.io', '', [{ reason: 'FieldValueInvalid', field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
    }
    user = { name: str(spec.user), groups: strings(spec.groups), ...(str(spec.uid) ? { uid: str(spec.uid) } : {}) };
  }
  const attrs = attributes(body.kind ?? '', user, spec);
  if (review === 'local-subject-access-review') {
    // The namespace of the URL is the one asked about (LocalSubjectAccessReview's REST).
    const ns = c.info.namespace;
    if (!attrs.resourceRequest) throw badRequest(`disallowed on this kind of request: nonResourceAttributes is not allowed for LocalSubjectAccessReview`);
    if (attrs.namespace && attrs.namespace !== ns) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
    (attrs as { namespace: string }).namespace = ns;
  }
  const decision = await d.authorizer.authorize(attrs);
  // `denied` is only for an explicit deny, which no edgeos authorizer gives (RBAC only allows).
  return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
}

async function rulesReview(d: ApiDeps, c: Call, body: KubeObject): Promise<Json> {
  const spec = obj(body.spec) ?? {};
  const rules = await d.authorizer.rulesFor(c.user, str(spec.namespace));
  return {
    resourceRules: rules.resourceRules,
    nonResourceRules: rules.nonResourceRules,
    incomplete: rules.incomplete,
    ...(rules.errors.length ? { evaluationError: rules.errors.join(', ') } : {}),
  };
}

/** TokenReview: the token goes through the server's authenticator exactly as a request's bearer token would. */
async function tokenReview(d: ApiDeps, body: KubeObject): Promise<Json> {
  const token = str(obj(body.spec)?.token);
  if (!token) throw badRequest('token is required for TokenReview in authentication');
  const probe = { headers: { authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage;
  const user = await d.authenticator.authenticate(probe).catch(() => undefined);
  if (!user) return { authenticated: false, user: {} };
  return { authenticated: true, user: userInfoJson(user) };
}

export async function createReview(d: ApiDeps, c: Call, review: ComputedSource): Promise<void> {
  const body = await decodeObject(await readBody(c.req), mediaType(c.req));
  checkBodyKind(body, c.resource);
  let status: Json;
  switch (review) {
    case 'self-subject-review':
      status = { userInfo: userInfoJson(c.user) };
      break;
    case 'self-subject-rules-review':
      status = await rulesReview(d, c, body);
      break;
    case 'token-review':
      status = await tokenReview(d, body);
      break;
    default:
      status = await accessReview(d, c, body, review);
  }
  const metadata: Json = { ...(obj(body.metadata) ?? {}), creationTimestamp: null };
  if (c.info.namespace) metadata.namespace = c.info.namespace;
  // A TokenReview's token is not sent back.
  const spec = review === 'token-review' ? { ...obj(body.spec), token: undefined } : body.spec;
  writeJson(c.res, 201, { ...body, metadata, spec, status }, { warnings: c.warnings });
}
