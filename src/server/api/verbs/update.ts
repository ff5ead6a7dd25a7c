/** PUT: replace an object (or its status). metadata.resourceVersion in the body is a precondition. */
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { queryDryRun } from '../context.ts';
import { checkUnknownFields, fieldValidationParam } from '../field-validation.ts';
import { updateObject } from '../mutate.ts';
import { respondObject } from '../present.ts';
import { badRequest } from '../../storage/status.ts';

export async function replaceObject(d: ApiDeps, c: Call, subresource: '' | 'status' | 'ephemeralcontainers'): Promise<void> {
  const body = await decodeObject(await readBody(c.req), mediaType(c.req));
  checkBodyKind(body, c.resource);
  checkBodyTypes(body, c.resource);
  checkUnknownFields(c.resource, body, fieldValidationParam(c.query), c.warnings);
  const name = body.metadata?.name;
  if (typeof name === 'string' && name !== '' && name !== c.info.name) {
    throw badRequest(`the name of the object (${name}) does not match the name on the URL (${c.info.name})`);
  }
  const result = await updateObject(d, c, {
    subresource,
    dryRun: queryDryRun(c.query),
    recordManager: true,
    transform: async () => structuredClone(body),
  });
  respondObject(d, c, 200, result.obj);
}
