/**
 * POST: create an object. Fills what apiserver's BeforeCreate fills (name from generateName,
 * uid, creationTimestamp, generation, managedFields), drops a client-sent status for resources
 * with a status subresource, runs defaulting/validation and admission (namespace must exist and be
 * active), and writes the object with any dependent keys (ClusterIP) in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { KeyValue, TxnOp } from '../../../store/types.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { hasSubresource, objectKey } from '../../registry/index.ts';
import { defaultAndValidate } from '../admit.ts';
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { queryDryRun } from '../context.ts';
import { checkUnknownFields, fieldValidationParam } from '../field-validation.ts';
import { hooksFor } from '../hooks.ts';
import { fieldManagerOf, recordUpdate } from '../managed-fields.ts';
import { requireActiveNamespace } from '../../storage/namespace-lifecycle.ts';
import { decodeStored, encodeForStore, meta, metaString } from '../../storage/objects.ts';
import { rfc3339 } from '../../kinds/age.ts';
import { randomSuffix } from '../../kinds/names.ts';
import { objectView } from '../negotiate.ts';
import { respondObject } from '../present.ts';
import { writeJsonBytes } from '../respond.ts';
import { servedJson } from '../../storage/stored-json.ts';
import { alreadyExists, badRequest, invalid } from '../../storage/status.ts';
import { translateStoreError } from '../../storage/store-errors.ts';

/** Namespace from the URL into the object (or a 400 when they disagree). */
export function applyNamespace(c: Call, obj: KubeObject): void {
  const m = meta(obj);
  if (!c.resource.namespaced) {
    delete m.namespace;
    return;
  }
  const bodyNs = metaString(obj, 'namespace');
  if (bodyNs !== '' && bodyNs !== c.info.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  m.namespace = c.info.namespace;
}

/** Create a decoded object (also the create path of server-side apply). Returns the stored object. */
export async function createObjectFrom(d: ApiDeps, c: Call, obj: KubeObject, dryRun: boolean, recordManager = true): Promise<KubeObject> {
  const created = await writeCreate(d, c, obj, dryRun, recordManager);
  return created.kv ? created.stored() : obj;
}

/** What a create wrote: its key-value (none for a dry run), and the stored object, decoded once when asked. */
interface Created {
  readonly kv: KeyValue | undefined;
  stored(): KubeObject;
}

async function writeCreate(d: ApiDeps, c: Call, obj: KubeObject, dryRun: boolean, recordManager: boolean): Promise<Created> {
  const r = c.resource;
  applyNamespace(c, obj);
  const m = meta(obj);
  if (typeof m.resourceVersion === 'string' && m.resourceVersion !== '') {
    throw badRequest('resourceVersion should not be set on objects to be created');
  }
  delete m.resourceVersion;
  if (!m.name && typeof m.generateName === 'string' && m.generateName !== '') {
    m.name = `${m.generateName}${randomSuffix()}`;
  }
  const now = d.now();
  m.uid = randomUUID();
  m.creationTimestamp = rfc3339(now);
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  if (r.tracksGeneration) m.generation = 1;
  else delete m.generation;
  if (hasSubresource(r, 'status') && !r.keepStatusOnCreate) delete obj.status;
  if (recordManager) {
    delete m.managedFields;
    recordUpdate(r, obj, undefined, fieldManagerOf(c.query, c.req), rfc3339(now));
  }

  defaultAndValidate(c, obj, undefined);
  const name = metaString(obj, 'name');
  if (name === '') {
    throw invalid(r.kind, r.group, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  }
  if (r.namespaced) await requireActiveNamespace(d, c.info.namespace, r, name);
  const hooks = hooksFor(r);
  const extra: TxnOp[] = hooks.beforeCreate ? await hooks.beforeCreate(d, obj) : [];
  const key = objectKey(r, c.info.namespace, name);
  if (dryRun) {
    // A dry run still answers what the write would have: AlreadyExists for a taken name.
    if (await d.store.get(key)) throw alreadyExists(r, name);
    return { kv: undefined, stored: () => obj };
  }

  let kvs;
  try {
    kvs = await d.store.txn([{ op: 'create', key, value: encodeForStore(r, obj), ...(r.ttlSeconds ? { ttlSeconds: r.ttlSeconds } : {}) }, ...extra]);
  } catch (e) {
    throw translateStoreError(e, r, name);
  }
  const kv = kvs[0];
  if (!kv) throw new Error(`store txn returned no result for ${key}`);
  let decoded: KubeObject | undefined;
  const stored = () => (decoded ??= decodeStored(r, kv));
  if (hooks.afterWrite) hooks.afterWrite(d, name, stored());
  c.log.debug({ key, revision: kv.modRevision }, 'created');
  return { kv, stored };
}

export async function createObject(d: ApiDeps, c: Call): Promise<void> {
  const obj = await decodeObject(await readBody(c.req), mediaType(c.req));
  checkBodyKind(obj, c.resource);
  checkBodyTypes(obj, c.resource);
  checkUnknownFields(c.resource, obj, fieldValidationParam(c.query), c.warnings);
  const created = await writeCreate(d, c, obj, queryDryRun(c.query), true);
  // The plain object is the stored bytes with its resourceVersion, as GET serves it: no decoding
  // and re-encoding of what was just encoded.
  if (created.kv && objectView(c.req.headers.accept) === 'object') return writeJsonBytes(c.res, 201, servedJson(c.resource, created.kv), { warnings: c.warnings });
  respondObject(d, c, 201, created.stored());
}
