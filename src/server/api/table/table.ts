/**
 * meta.k8s.io/v1 Table responses for `kubectl get` (kubectl-wire.md §3). Columns come from the
 * kind's behaviour (src/server/kinds), a CRD's additionalPrinterColumns, or the generic Name/Age.
 * Rows carry PartialObjectMetadata by default — kubectl needs it for -A, --show-labels and -L —
 * and the full object with includeObject=Object (`--sort-by`; rows without it crash kubectl).
 */
import { ageSince } from '../../kinds/age.ts';
import { AGE_COLUMN, NAME_COLUMN } from '../../kinds/columns.ts';
import { present } from '../../kinds/types.ts';
import type { KubeObject, TableColumn, TableSpec } from '../../kinds/types.ts';
import type { PrinterColumn, ResourceInfo } from '../../registry/index.ts';
import type { ListMetaOut } from '../../storage/types.ts';
import { convertsForm, toBehaviorForm } from '../../storage/convert.ts';
import { badRequest } from '../../storage/status.ts';
import { evaluateJsonPath } from './json-path.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function includeObjectParam(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: "${v}": supported values: "Metadata", "None", "Object"`);
}

export function partialObjectMetadata(obj: KubeObject): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} };
}

const GENERIC: TableSpec = {
  columns: [NAME_COLUMN, { ...AGE_COLUMN }],
  row: (obj, now) => [obj.metadata?.name ?? '', ageSince(obj.metadata?.creationTimestamp, now)],
};

function cellValue(col: PrinterColumn, values: unknown[], now: Date): unknown {
  if (values.length === 0) return null;
  const first = values[0];
  // apiextensions' table convertor turns date columns into ages on the server.
  if (col.type === 'date') return ageSince(first, now);
  if (values.length > 1) return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
  if (first !== null && typeof first === 'object') return JSON.stringify(first);
  return first;
}

function crdSpec(cols: readonly PrinterColumn[]): TableSpec {
  // apiextensions defaults to one Age column when a CRD declares none.
  const effective = cols.length > 0 ? cols : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: AGE_COLUMN.description, priority: 0 }];
  const types = new Set(['string', 'integer', 'number', 'boolean', 'date']);
  return {
    columns: [
      NAME_COLUMN,
      ...effective.map((c): TableColumn => ({
        name: c.name,
        type: (types.has(c.type) ? c.type : 'string') as TableColumn['type'],
        format: c.format ?? '',
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
    ],
    row: (obj, now) => [obj.metadata?.name ?? '', ...effective.map((c) => cellValue(c, evaluateJsonPath(obj, c.jsonPath), now))],
  };
}

export function tableSpecFor(r: ResourceInfo): TableSpec {
  if (r.custom) return crdSpec(r.printerColumns ?? []);
  const spec = (r.builtin && present(r.builtin.table)) ?? GENERIC;
  if (!convertsForm(r)) return spec;
  // Kind tables read the stored form (core/v1 Event for events.k8s.io), as apiserver prints the internal type.
  return { columns: spec.columns, row: (obj, now) => spec.row(toBehaviorForm(r, obj), now) };
}

export function tableRow(spec: TableSpec, obj: KubeObject, include: IncludeObject, now: Date): Record<string, unknown> {
  const row: Record<string, unknown> = { cells: spec.row(obj, now) };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata') row.object = partialObjectMetadata(obj);
  return row;
}

export function buildTable(spec: TableSpec, objs: readonly KubeObject[], include: IncludeObject, listMeta: ListMetaOut, now: Date): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: spec.columns,
    rows: objs.map((o) => tableRow(spec, o, include, now)),
  };
}
