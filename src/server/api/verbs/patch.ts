/**
 * PATCH: dispatch on Content-Type to the patch engines of src/server/patch (kubectl-wire.md §6):
 * json-patch+json (rollout undo), merge-patch+json (label, annotate, scale, CRDs),
 * strategic-merge-patch+json (client-side apply, edit, cordon), apply-patch+yaml (server-side
 * apply, which creates a missing object). Other media types are 415 with apiserver's list.
 */
import { EdgeosError } from '../../../common/errors.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { ApplyRequestError, PatchError, applyConflictMessage, applyPatch as enginePatch, parseApplyBody, patchTypeFromContentType, serverSideApply } from '../../patch/index.ts';
import type { ApplyConflict, GroupVersionKind, PatchType } from '../../patch/index.ts';
import { readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { queryDryRun } from '../context.ts';
import { checkUnknownFields, fieldValidationParam } from '../field-validation.ts';
import { updateObject } from '../mutate.ts';
import { rfc3339 } from '../../kinds/age.ts';
import { respondObject } from '../present.ts';
import { queryBool } from '../query-params.ts';
import { ApiError, badRequest, unsupportedMediaType } from '../../storage/status.ts';
import { createObjectFrom } from './create.ts';

const ACCEPTED = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'application/strategic-merge-patch+json'];

export function patchTypeOf(c: Call): PatchType {
  const ct = c.req.headers['content-type'];
  const pt = patchTypeFromContentType(ct);
  if (!pt) throw unsupportedMediaType((ct ?? '').split(';')[0]?.trim() ?? '', ACCEPTED);
  return pt;
}

/** The patch engines' errors as Status: 400 unparsable, 415 not for this kind, 422 inapplicable. */
function translatePatchError(err: unknown): unknown {
  if (err instanceof PatchError) {
    if (err.httpStatus === 415) return new ApiError(415, 'UnsupportedMediaType', err.message);
    if (err.httpStatus === 400) return badRequest(err.message);
    return new ApiError(422, 'Invalid', err.message);
  }
  if (err instanceof ApplyRequestError) return badRequest(err.message);
  if (err instanceof EdgeosError && !(err instanceof ApiError)) return badRequest(err.message);
  return err;
}

/** Apply one non-apply patch body to `current` (also used for the scale subresource). */
export function applyPatchBody(pt: Exclude<PatchType, 'apply'>, current: KubeObject, body: Buffer, gvk: GroupVersionKind): KubeObject {
  try {
    return enginePatch(pt, current, body, gvk);
  } catch (e) {
    throw translatePatchError(e);
  }
}

function conflictError(conflicts: readonly ApplyConflict[]): ApiError {
  const causes = conflicts.map((x) => ({ reason: 'FieldManagerConflict', message: x.message ?? `conflict with "${x.manager}"`, field: x.field }));
  return new ApiError(409, 'Conflict', applyConflictMessage(conflicts), { causes });
}

export async function patchObject(d: ApiDeps, c: Call, subresource: '' | 'status' | 'ephemeralcontainers'): Promise<void> {
  const pt = patchTypeOf(c);
  const raw = await readBody(c.req);
  if (raw.length === 0) throw badRequest('the body of the request is empty');
  const dryRun = queryDryRun(c.query);
  const r = c.resource;
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const validation = fieldValidationParam(c.query);

  if (pt === 'apply') {
    let cfg: KubeObject;
    try {
      cfg = parseApplyBody(raw);
    } catch (e) {
      throw translatePatchError(e);
    }
    checkBodyKind(cfg, r);
    checkBodyTypes(cfg, r, { keepNulls: true });
    checkUnknownFields(r, cfg, validation, c.warnings);
    const manager = c.query.get('fieldManager') ?? '';
    const force = queryBool(c.query, 'force') ?? false;
    const run = (live: KubeObject | undefined): KubeObject => {
      let out;
      try {
        out = serverSideApply({ live, applied: structuredClone(cfg), gvk, manager, force, now: rfc3339(d.now()) });
      } catch (e) {
        throw translatePatchError(e);
      }
      if (!out.ok) throw conflictError(out.conflicts);
      const obj = out.object;
      checkBodyTypes(obj, r);
      // The stored object's resourceVersion is not a precondition unless the configuration sets one.
      if (obj.metadata && live && obj.metadata.resourceVersion === live.metadata?.resourceVersion && cfg.metadata?.resourceVersion === undefined) {
        delete obj.metadata.resourceVersion;
      }
      return obj;
    };
    const result = await updateObject(d, c, {
      subresource,
      dryRun,
      recordManager: false,
      transform: async (cur) => run(cur),
      allowCreate: subresource === '' ? (desired) => createObjectFrom(d, c, desired, dryRun, false) : undefined,
    });
    respondObject(d, c, result.created ? 201 : 200, result.obj);
    return;
  }

  const result = await updateObject(d, c, {
    subresource,
    dryRun,
    recordManager: true,
    transform: async (cur) => {
      if (!cur) throw new Error('patch of a missing object');
      const rv = cur.metadata?.resourceVersion;
      const next = applyPatchBody(pt, cur, raw, gvk);
      checkBodyTypes(next, r);
      checkUnknownFields(r, next, validation, c.warnings);
      // A patch that does not mention resourceVersion is unconditional: drop the value read from
      // the store so only a patched-in resourceVersion acts as a precondition.
      if (next.metadata && next.metadata.resourceVersion === rv) delete next.metadata.resourceVersion;
      return next;
    },
  });
  respondObject(d, c, 200, result.obj);
}

