/**
 * Column definitions shared by the table printers (pkg/printers/internalversion/printers.go): every
 * table starts with Name and most end with Age.
 */
import { ageSince, rfc3339 } from './age.ts';
import { map, str } from './access.ts';
import type { KubeObject, TableColumn, TableSpec } from './types.ts';

export const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

export const AGE_COLUMN: TableColumn = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  priority: 0,
};

/** A plain string column. */
export function col(name: string, description: string, priority = 0): TableColumn {
  return { name, type: 'string', description, priority };
}

export function nameOf(obj: KubeObject): string {
  return str(map(obj.metadata)?.name) ?? '';
}

export function ageOf(obj: KubeObject, now: Date): string {
  return ageSince(map(obj.metadata)?.creationTimestamp, now);
}

/** A string or "<none>", the printers' placeholder for empty values. */
export function orNone(s: string | undefined): string {
  return s ? s : '<none>';
}

/** The CREATED AT column of RBAC roles, CRDs and LimitRanges (a date, not an age). */
export const CREATED_AT_COLUMN: TableColumn = {
  name: 'Created At',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

/** Go's time.RFC3339 in UTC (no fractional seconds); the zero time when unset. */
export function createdAt(obj: KubeObject): string {
  const ts = str(map(obj.metadata)?.creationTimestamp);
  const t = ts ? Date.parse(ts) : Number.NaN;
  return Number.isNaN(t) ? '0001-01-01T00:00:00Z' : rfc3339(new Date(t));
}

/** NAME and CREATED AT only (printRole, printClusterRole, CRDs, printLimitRange). */
export const CREATED_AT_TABLE: TableSpec = {
  columns: [NAME_COLUMN, CREATED_AT_COLUMN],
  row: (obj) => [nameOf(obj), createdAt(obj)],
};
