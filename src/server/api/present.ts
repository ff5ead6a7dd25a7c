/** Turning objects into the representation the request asked for (object, Table, PartialObjectMetadata). */
import type { KubeObject } from '../kinds/types.ts';
import { groupVersion } from '../registry/index.ts';
import type { ApiDeps, Call } from './context.ts';
import { objectView } from './negotiate.ts';
import { writeJson } from './respond.ts';
import { buildTable, includeObjectParam, partialObjectMetadata, tableSpecFor } from './table/table.ts';
import type { ListMetaOut } from '../storage/types.ts';

export function presentObject(d: ApiDeps, c: Call, obj: KubeObject): unknown {
  const view = objectView(c.req.headers.accept);
  if (view === 'table') {
    const spec = tableSpecFor(c.resource);
    return buildTable(spec, [obj], includeObjectParam(c.query), { resourceVersion: String(obj.metadata?.resourceVersion ?? '') }, d.now());
  }
  if (view === 'partial') return partialObjectMetadata(obj);
  return obj;
}

export function presentList(d: ApiDeps, c: Call, items: readonly KubeObject[], listMeta: ListMetaOut): unknown {
  const view = objectView(c.req.headers.accept);
  if (view === 'table') {
    const spec = tableSpecFor(c.resource);
    return buildTable(spec, items, includeObjectParam(c.query), listMeta, d.now());
  }
  if (view === 'partial') {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: items.map(partialObjectMetadata) };
  }
  return { kind: c.resource.listKind, apiVersion: groupVersion(c.resource.group, c.resource.version), metadata: listMeta, items };
}

export function respondObject(d: ApiDeps, c: Call, status: number, obj: KubeObject): void {
  writeJson(c.res, status, presentObject(d, c, obj), { warnings: c.warnings });
}
