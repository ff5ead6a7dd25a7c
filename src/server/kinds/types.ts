/**
 * Per-kind behaviour of built-in resources: defaulting, validation and the Table columns kubectl
 * prints. Pure functions over plain JSON objects (no store access), looked up by group and kind.
 */

/** A Kubernetes object as JSON. */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
};

/** One invalid field, as in a 422 Status `details.causes[]`. */
export interface FieldError {
  /** "FieldValueRequired", "FieldValueInvalid", "FieldValueNotSupported", "FieldValueDuplicate", "FieldValueForbidden", "FieldValueTooLong". */
  readonly reason: string;
  /** Field path as Kubernetes prints it, e.g. "spec.containers[0].image". */
  readonly field: string;
  /** The human part, e.g. "Required value" or `Invalid value: "Web": a lowercase RFC 1123 …`. */
  readonly message: string;
}

/** meta.k8s.io/v1 TableColumnDefinition. */
export interface TableColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format?: string;
  readonly description: string;
  /** 0 = default view; > 0 = only with `-o wide`. */
  readonly priority: number;
}

export interface TableSpec {
  readonly columns: readonly TableColumn[];
  /** The cells of one row, in column order. `now` makes ages deterministic in tests. */
  row(obj: KubeObject, now: Date): unknown[];
}

export interface KindBehavior {
  /** Fill defaults a user sees in `kubectl get -o yaml` (mutates obj). Runs before validation. */
  default?(obj: KubeObject): void;
  /** Problems with a new object (old undefined) or an update (old = stored object). */
  validate?(obj: KubeObject, old: KubeObject | undefined): FieldError[];
  /** Table columns; when absent the generic NAME/AGE table is used. */
  table?: TableSpec;
}
