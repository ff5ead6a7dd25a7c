/**
 * serviceaccounts/token: the TokenRequest API (authentication.k8s.io/v1), what the kubelet calls
 * for a pod's projected token and `kubectl create token` for a person. As upstream
 * (pkg/registry/core/serviceaccount/storage/token.go): the audiences default to the API's, the
 * expiry to an hour and at least ten minutes; a token may be bound to a Pod of that
 * ServiceAccount (its node is bound with it), and is then revoked when the pod goes. A node may
 * only ask for tokens bound to a pod on itself (NodeRestriction admission). Nothing is stored.
 */
import { nodeNameOf } from '../../auth/node-authorizer.ts';
import type { ObjectRef } from '../../auth/service-account-tokens.ts';
import { rfc3339 } from '../../kinds/age.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { mustRead, readCurrent } from '../../storage/read.ts';
import { ApiError, badRequest, forbidden, invalid, serviceUnavailable } from '../../storage/status.ts';
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { queryDryRun } from '../context.ts';
import { writeJson } from '../respond.ts';

const GVK = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

interface BoundRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

const refOf = (o: KubeObject): ObjectRef => ({ name: String(o.metadata?.name ?? ''), uid: String(o.metadata?.uid ?? '') });

export async function createTokenRequest(d: ApiDeps, c: Call): Promise<void> {
  const tokens = d.serviceAccountTokens;
  if (!tokens) throw serviceUnavailable('this server issues no ServiceAccount tokens');
  const body = await decodeObject(await readBody(c.req), mediaType(c.req));
  checkBodyKind(body, GVK);
  checkBodyTypes(body, GVK);
  const ns = c.info.namespace;
  const name = c.info.name;
  const spec = (body.spec ?? {}) as { audiences?: string[] | null; expirationSeconds?: number | null; boundObjectRef?: BoundRef | null };
  const expirationSeconds = spec.expirationSeconds || DEFAULT_EXPIRATION_SECONDS;
  if (expirationSeconds < MIN_EXPIRATION_SECONDS || expirationSeconds > MAX_EXPIRATION_SECONDS) {
    const why = expirationSeconds < MIN_EXPIRATION_SECONDS ? 'may not specify a duration less than 10 minutes' : 'may not specify a duration larger than 2^32 seconds';
    throw invalid('TokenRequest', GVK.group, name, [{ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: ${why}` }]);
  }
  const audiences = spec.audiences && spec.audiences.length > 0 ? spec.audiences : [...tokens.apiAudiences];

  const saResource = c.resource;
  const sa = (await mustRead(d.store, saResource, ns, name)).obj;
  const bodyUid = (body.metadata as { uid?: unknown } | undefined)?.uid;
  if (typeof bodyUid === 'string' && bodyUid !== '' && bodyUid !== sa.metadata?.uid) {
    throw new ApiError(409, 'Conflict', `the UID in the token request (${bodyUid}) does not match the UID of the service account (${String(sa.metadata?.uid)})`);
  }

  const ref = spec.boundObjectRef ?? undefined;
  const node = nodeNameOf(c.user);
  let pod: ObjectRef | undefined;
  let boundNode: ObjectRef | undefined;
  if (node !== undefined && (!ref || ref.kind !== 'Pod')) {
    throw forbidden(ref ? `node requested token bound to a ${String(ref.kind)}, not a pod` : 'node requested token not bound to a pod');
  }
  if (ref) {
    if (ref.kind !== 'Pod') throw badRequest(`cannot bind token to object of type ${String(ref.kind)}: edgeos binds tokens to Pods`);
    if (ref.apiVersion && ref.apiVersion !== 'v1') throw badRequest(`cannot bind token to object of apiVersion ${ref.apiVersion}`);
    const pods = d.registry.resolve('', 'v1', 'pods')!;
    const cur = await readCurrent(d.store, pods, ns, ref.name ?? '');
    if (!cur) throw new ApiError(404, 'NotFound', `pods "${ref.name ?? ''}" not found`, { name: ref.name ?? '', kind: 'pods' });
    const p = cur.obj;
    if (ref.uid && ref.uid !== p.metadata?.uid) {
      throw new ApiError(409, 'Conflict', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    const podSpec = (p.spec ?? {}) as { serviceAccountName?: string; nodeName?: string };
    if ((podSpec.serviceAccountName || 'default') !== name) {
      throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
    }
    if (node !== undefined) {
      if (!ref.uid) throw forbidden('node requested token with a pod binding without a uid');
      if (podSpec.nodeName !== node) throw forbidden('node requested token bound to a pod scheduled on a different node');
    }
    pod = refOf(p);
    if (podSpec.nodeName) {
      const nodes = d.registry.resolve('', 'v1', 'nodes')!;
      const n = await readCurrent(d.store, nodes, '', podSpec.nodeName);
      if (n) boundNode = refOf(n.obj);
    }
  }

  const outSpec: Record<string, unknown> = { audiences, expirationSeconds, boundObjectRef: ref ? { kind: 'Pod', apiVersion: 'v1', name: ref.name, uid: pod?.uid } : null };
  const out = {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: rfc3339(d.now()) },
    spec: outSpec,
    status: { token: '', expirationTimestamp: null as string | null },
  };
  if (!queryDryRun(c.query)) {
    const issued = tokens.issue({ namespace: ns, serviceAccount: refOf(sa), audiences, expirationSeconds, ...(pod ? { pod } : {}), ...(boundNode ? { node: boundNode } : {}) });
    out.status = { token: issued.token, expirationTimestamp: rfc3339(issued.expiresAt) };
  }
  writeJson(c.res, 201, out, { warnings: c.warnings });
}
