/**
 * The built-in kinds: one `BuiltinKind` descriptor per kind, in that kind's own file, registered by
 * one line in builtin.ts (Kubernetes keeps the same facts in pkg/registry/<group>/<kind>/strategy.go
 * and its REST storage). The generic layers read these facts and test no kind by name: the
 * registry and discovery (served facts), the API (defaulting, validation, Tables, write hooks,
 * deletion, field selectors, subresource handlers), storage (conversion), the patch engines (merge
 * keys), the protobuf decoder (message names) and the controllers' resource table.
 *
 * Every facet is written out in each descriptor: a kind that has nothing for one says so with
 * `none('why')`, so test/server/kinds/descriptors.test.ts tells a deliberate absence from a
 * forgotten one. Behaviour is pure functions over plain JSON objects, except write hooks, which get
 * the store and server state through `WriteContext`.
 */
import type { KeyValue, Store, TxnOp } from '../../store/types.ts';
import type { StructSchema } from '../patch/merge-keys.ts';
import type { ClusterIpAllocator } from './cluster-ip.ts';

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

/** A facet a kind does without on purpose, and why. */
export interface None {
  readonly none: string;
}

export function none(reason: string): None {
  return { none: reason };
}

export function isNone(facet: unknown): facet is None {
  return typeof facet === 'object' && facet !== null && Object.hasOwn(facet, 'none');
}

/** The facet, or undefined when the kind does without it. */
export function present<T>(facet: T | None): T | undefined {
  return isNone(facet) ? undefined : facet;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/**
 * Which generic handler of the API serves a subresource (the descriptor picks one; the API holds
 * the handlers):
 *  - status: GET/PUT/PATCH of the status stanza (CSR approval writes the same way);
 *  - finalize: PUT of the whole object (namespaces/finalize);
 *  - scale: the autoscaling/v1 Scale view of spec.replicas;
 *  - binding, eviction: pods/binding and pods/eviction;
 *  - log: a container's log streamed from the pod's node (pods/log);
 *  - stream: exec/attach/portforward upgrades forwarded to the pod's node;
 *  - proxy: nodes/proxy, which the agent tunnel does not carry (503 after the checks);
 *  - token: serviceaccounts/token, a TokenRequest (api/subresources/token-request.ts).
 */
export type SubresourceHandler = 'status' | 'finalize' | 'scale' | 'binding' | 'eviction' | 'log' | 'stream' | 'proxy' | 'token' | 'ephemeralcontainers';

export interface SubresourceInfo {
  /** e.g. "status", "scale", "eviction", "log". */
  readonly name: string;
  /** The kind sent and returned on this subresource (Scale, Eviction, Binding, or the parent kind for status). */
  readonly responseKind: GroupVersionKind;
  readonly verbs: readonly string[];
  readonly handler: SubresourceHandler;
}

/** What write hooks may use: the store (their ops join the object's own transaction) and server state. */
/**
 * Reads of the few keys every write checks — Namespaces, ServiceAccounts — served from memory and
 * kept current by a watch on the store (storage/watch-cache.ts), as kube-apiserver's admission
 * plugins read from informers. A key the cache has not seen (created a moment ago, perhaps on
 * another server), or one this server wrote that the watch has not delivered yet, is read from
 * the store.
 */
export interface CachedReads {
  get(key: string): Promise<KeyValue | undefined>;
}

export interface WriteContext {
  readonly store: Store;
  /** Namespaces and ServiceAccounts (`/registry/namespaces/`, `/registry/serviceaccounts/`) from memory. */
  readonly cache: CachedReads;
  readonly now: () => Date;
  /** The Service ClusterIP range. */
  readonly clusterIps: ClusterIpAllocator;
  /** Where NodePorts come from (--service-node-port-range). */
  readonly nodePorts: { readonly min: number; readonly max: number };
  /** Serve (or, with undefined, stop serving) the resources of one CustomResourceDefinition. */
  serveCrd(name: string, crd: KubeObject | undefined): void;
}

/**
 * Steps beyond defaulting and validation that touch other store keys or server state (ClusterIP
 * and NodePort allocation, namespace and CRD status, serving CRDs). They may throw
 * FieldRejectedError (422) or AllocationFailedError (500) from field-errors.ts.
 */
export interface WriteHooks {
  /** May mutate obj; returns extra ops for the create transaction. Runs after validation. */
  beforeCreate?(ctx: WriteContext, obj: KubeObject): Promise<TxnOp[]>;
  beforeUpdate?(ctx: WriteContext, obj: KubeObject, old: KubeObject): Promise<TxnOp[]>;
  /** Extra ops when the object is finally removed from the store. */
  beforeDelete?(ctx: WriteContext, obj: KubeObject): Promise<TxnOp[]>;
  /** After a committed write; `obj` is undefined when the object was removed. */
  afterWrite?(ctx: WriteContext, name: string, obj: KubeObject | undefined): void;
}

/** How a delete request treats the kind, beyond finalizers (genericregistry's graceful deletion). */
export interface DeletionPolicy {
  /**
   * The kind always passes through a terminating state (namespaces): a delete marks the object
   * with this (and deletionTimestamp) and keeps it until its finalizers are gone.
   */
  readonly terminate?: (obj: KubeObject) => void;
  /** Kind-specific finalizers outside metadata.finalizers that keep a deleted object (a namespace's spec.finalizers). */
  readonly finalizers?: (obj: KubeObject) => readonly unknown[];
  /**
   * Graceful deletion (pods): seconds the object stays with deletionTimestamp before whoever runs
   * it removes it; 0 deletes at once. `requested` is DeleteOptions.gracePeriodSeconds.
   */
  readonly gracePeriodSeconds?: (obj: KubeObject, requested: number | undefined) => number;
}

/** Fields a list, watch or deletecollection may select on besides metadata.name and metadata.namespace (GetAttrs), each with its value. */
export type SelectableFields = Readonly<Record<string, (obj: KubeObject) => string>>;

/** The Go module whose generated.proto holds a kind's protobuf messages. */
export type ProtobufOrigin = 'k8s.io/api' | 'k8s.io/apiextensions-apiserver';

/**
 * Served versions whose objects differ in shape from the stored form (events.k8s.io/v1 Event over
 * core/v1; autoscaling/v1 HorizontalPodAutoscaler over v2).
 */
export interface StorageConversion {
  /** The served version that is the stored form itself (nothing converts it); absent: every version converts. */
  readonly storedVersion?: string;
  /** The served object in the stored form; mutates and returns it. */
  toStorage(obj: KubeObject): KubeObject;
  /** The stored object in the served form; mutates and returns it. */
  fromStorage(obj: KubeObject): KubeObject;
}

/**
 * Which handler of the API computes a resource that is not stored: metrics.k8s.io from the agents'
 * reports, and the identity and access reviews from the request's user and the authorizer.
 */
export type ComputedSource =
  | 'pod-metrics' | 'node-metrics' | 'self-subject-review' | 'self-subject-access-review' | 'self-subject-rules-review'
  | 'subject-access-review' | 'local-subject-access-review' | 'token-review';

export interface BuiltinKind {
  // Discovery: what /api and /apis serve (kubectl-wire.md §1 needs verbs, shortNames, categories and subresources).
  readonly group: string;
  /** Served versions, preferred first; all share the storage below. */
  readonly versions: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  /** The segment under `/registry/` that holds the objects (storageSegment unless shared with another kind). */
  readonly storage: string;
  /** Objects expire this long after their last write (Events: apiserver's --event-ttl). */
  readonly ttlSeconds: number | None;
  /** metadata.generation is set on create and bumped when the spec changes. */
  readonly tracksGeneration: boolean;
  /** Create keeps a client-sent status although the kind has a status subresource (the creator reports it: Node). */
  readonly keepStatusOnCreate: boolean;
  /** Served from a computed source instead of the store. */
  readonly computed: ComputedSource | None;

  // Strategy: what a write goes through.
  /** Fill defaults a user sees in `kubectl get -o yaml` (mutates obj). Runs before validation. */
  readonly defaults: ((obj: KubeObject) => void) | None;
  /** Problems with a new object (old undefined) or an update (old = stored object). */
  readonly validate: ((obj: KubeObject, old: KubeObject | undefined) => FieldError[]) | None;
  /** The Table kubectl prints; without one the API prints NAME and AGE. */
  readonly table: TableSpec | None;
  readonly hooks: WriteHooks | None;
  readonly deletion: DeletionPolicy | None;
  readonly fieldSelectors: SelectableFields | None;
  /** The kind's patchStrategy/patchMergeKey and listType markers for strategic merge patch and server-side apply. */
  readonly mergeKeys: StructSchema | None;
  /**
   * Where the protobuf messages of the kind (every served version, and its subresources' kinds)
   * are defined upstream; the decoder (src/server/protobuf) derives each message's name from it.
   */
  readonly protobuf: ProtobufOrigin | None;
  /** Conversion between the served and the stored form; the strategy above works on the stored form. */
  readonly conversion: StorageConversion | None;
}
