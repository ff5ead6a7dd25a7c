/**
 * The scale subresource (kubectl-wire.md §8): autoscaling/v1 Scale views of deployments,
 * replicasets, statefulsets and custom resources with a scale subresource. Writes change only the
 * parent's spec.replicas; Scale.metadata.resourceVersion is a precondition on the parent.
 */
import type { KubeObject } from '../../kinds/types.ts';
import { readBody, decodeObject, mediaType } from '../body.ts';
import { checkBodyKind } from '../body-kind.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { queryDryRun } from '../context.ts';
import { updateObject } from '../mutate.ts';
import { meta } from '../../storage/objects.ts';
import { mustRead } from '../../storage/read.ts';
import { writeJson } from '../respond.ts';
import { formatLabelSelector, selectorFromObject } from '../selectors/label-selector.ts';
import { badRequest, invalid } from '../../storage/status.ts';
import { applyPatchBody, patchTypeOf } from '../verbs/patch.ts';

const SCALE_GVK = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (!cur[part] || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] ?? ''] = value;
}

function paths(c: Call): { spec: string; status: string; selector?: string } {
  const p = c.resource.scalePaths;
  if (p) return { spec: p.specReplicasPath, status: p.statusReplicasPath, selector: p.labelSelectorPath };
  return { spec: '.spec.replicas', status: '.status.replicas' };
}

export function scaleOf(c: Call, obj: KubeObject): Record<string, unknown> {
  const p = paths(c);
  const m = obj.metadata ?? {};
  let selector: string;
  if (p.selector) {
    const s = getPath(obj, p.selector);
    selector = typeof s === 'string' ? s : '';
  } else {
    selector = formatLabelSelector(selectorFromObject((obj.spec as { selector?: unknown } | undefined)?.selector));
  }
  const specReplicas = getPath(obj, p.spec);
  const statusReplicas = getPath(obj, p.status);
  const status: Record<string, unknown> = { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0 };
  if (selector) status.selector = selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status,
  };
}

export async function getScale(d: ApiDeps, c: Call): Promise<void> {
  const { obj } = await mustRead(d.store, c.resource, c.info.namespace, c.info.name);
  writeJson(c.res, 200, scaleOf(c, obj), { warnings: c.warnings });
}

/** PUT or PATCH on /scale. */
export async function writeScale(d: ApiDeps, c: Call, verb: 'update' | 'patch'): Promise<void> {
  const raw = await readBody(c.req);
  if (raw.length === 0) throw badRequest('the body of the request is empty');
  let body: KubeObject | undefined;
  const pt = verb === 'patch' ? patchTypeOf(c) : undefined;
  if (pt === 'apply') throw badRequest('server-side apply of the scale subresource is not supported');
  if (verb === 'update') {
    body = await decodeObject(raw, mediaType(c.req));
    checkBodyKind(body, SCALE_GVK);
    checkBodyTypes(body, SCALE_GVK);
  }

  const result = await updateObject(d, c, {
    subresource: '',
    dryRun: queryDryRun(c.query),
    recordManager: true,
    transform: async (cur) => {
      if (!cur) throw new Error('scale of a missing object');
      const scale = scaleOf(c, cur);
      const desired: KubeObject = body ?? (pt ? applyPatchBody(pt, scale, raw, SCALE_GVK) : scale);
      if (pt) checkBodyTypes(desired, SCALE_GVK);
      const replicas = (desired.spec as { replicas?: unknown } | undefined)?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw invalid('Scale', 'autoscaling', c.info.name, [
          { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` },
        ]);
      }
      const next = structuredClone(cur);
      setPath(next as Record<string, unknown>, paths(c).spec, replicas);
      const rv = desired.metadata?.resourceVersion;
      const m = meta(next);
      if (typeof rv === 'string' && rv !== '' && rv !== cur.metadata?.resourceVersion) m.resourceVersion = rv;
      else delete m.resourceVersion;
      return next;
    },
  });
  writeJson(c.res, 200, scaleOf(c, result.obj), { warnings: c.warnings });
}
