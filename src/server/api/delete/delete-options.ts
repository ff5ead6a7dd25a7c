/**
 * DeleteOptions from the body (kubectl sends `{"propagationPolicy":…}`, and for server dry-run
 * `"dryRun":["All"]` in the body, §7) merged with the query parameters of the same names.
 */
import type { IncomingMessage } from 'node:http';
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyTypes } from '../body-types.ts';
import { queryBool, queryInt } from '../query-params.ts';
import { badRequest } from '../../storage/status.ts';

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  readonly gracePeriodSeconds: number | undefined;
  readonly propagation: Propagation | undefined;
  readonly dryRun: boolean;
  readonly preconditionUid: string | undefined;
  readonly preconditionResourceVersion: string | undefined;
}

export async function readDeleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const raw = await readBody(req);
  const body: Record<string, unknown> = raw.length > 0 ? await decodeObject(raw, mediaType(req)) : {};
  if (body.kind !== undefined && body.kind !== 'DeleteOptions') {
    throw badRequest(`${String(body.kind)} in version "${String(body.apiVersion)}" cannot be handled as a DeleteOptions`);
  }
  checkBodyTypes(body, { group: 'meta.k8s.io', version: 'v1', kind: 'DeleteOptions' });
  let grace: number | undefined = typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined;
  const qGrace = queryInt(query, 'gracePeriodSeconds');
  if (qGrace !== undefined) grace = qGrace;
  let propagation = (typeof body.propagationPolicy === 'string' ? body.propagationPolicy : query.get('propagationPolicy') ?? undefined) as string | undefined;
  const orphan = typeof body.orphanDependents === 'boolean' ? body.orphanDependents : queryBool(query, 'orphanDependents');
  if (orphan !== undefined && propagation !== undefined) {
    throw badRequest('DeleteOptions is invalid: propagationPolicy: Invalid value: "' + propagation + '": orphanDependents and deletionPropagation cannot be both set');
  }
  if (orphan === true) propagation = 'Orphan';
  if (propagation !== undefined && propagation !== '' && propagation !== 'Background' && propagation !== 'Foreground' && propagation !== 'Orphan') {
    throw badRequest(`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${propagation}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  const bodyDry = Array.isArray(body.dryRun) ? (body.dryRun as unknown[]) : [];
  const pre = (body.preconditions && typeof body.preconditions === 'object' ? body.preconditions : {}) as Record<string, unknown>;
  return {
    gracePeriodSeconds: grace,
    propagation: propagation === '' ? undefined : (propagation as Propagation | undefined),
    dryRun: bodyDry.includes('All') || query.getAll('dryRun').includes('All'),
    preconditionUid: typeof pre.uid === 'string' && pre.uid !== '' ? pre.uid : undefined,
    preconditionResourceVersion: typeof pre.resourceVersion === 'string' && pre.resourceVersion !== '' ? pre.resourceVersion : undefined,
  };
}
