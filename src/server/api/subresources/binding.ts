/**
 * pods/binding: the scheduler's write. Sets spec.nodeName once (409 when already bound, like
 * apiserver's assignPod) and marks the PodScheduled condition.
 */
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { queryDryRun } from '../context.ts';
import { updateObject } from '../mutate.ts';
import { rfc3339 } from '../../kinds/age.ts';
import { writeJson } from '../respond.ts';
import { ApiError, badRequest } from '../../storage/status.ts';

export async function createBinding(d: ApiDeps, c: Call): Promise<void> {
  const binding = await decodeObject(await readBody(c.req), mediaType(c.req));
  const gvk = { group: '', version: 'v1', kind: 'Binding' };
  checkBodyKind(binding, gvk);
  checkBodyTypes(binding, gvk);
  const target = (binding.target ?? {}) as { kind?: unknown; name?: unknown };
  if (typeof target.name !== 'string' || target.name === '') throw badRequest('Binding.target.name: Required value');
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    throw badRequest(`Binding.target.kind: Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node"`);
  }
  const nodeName = target.name;
  await updateObject(d, c, {
    subresource: 'binding',
    dryRun: queryDryRun(c.query),
    recordManager: false,
    transform: async (cur) => {
      if (!cur) throw new Error('binding of a missing pod');
      const spec = (cur.spec ?? {}) as Record<string, unknown>;
      if (cur.metadata?.deletionTimestamp) {
        throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${c.info.name}": pod ${c.info.name} is being deleted, cannot be assigned to a host`);
      }
      if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
        throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${c.info.name}": pod ${c.info.name} is already assigned to node "${spec.nodeName}"`, {
          name: c.info.name, kind: 'pods/binding',
        });
      }
      spec.nodeName = nodeName;
      cur.spec = spec;
      const status = (cur.status ?? {}) as Record<string, unknown>;
      const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((x: { type?: unknown }) => x.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(d.now()) });
      status.conditions = conditions;
      cur.status = status;
      if (cur.metadata) delete cur.metadata.resourceVersion;
      return cur;
    },
  });
  writeJson(c.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, { warnings: c.warnings });
}
