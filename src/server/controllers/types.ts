/**
 * The contract of the controllers of `edgeos server` (kube-controller-manager and kube-scheduler in
 * one process). Controllers are ordinary API clients: they read through shared informers (list +
 * watch kept in memory) and write through a `KubeClient` that speaks HTTPS to the server's own
 * listener with an in-memory loopback credential, exactly as kube-controller-manager talks to
 * kube-apiserver (K3s does the same over its loopback client). Nothing here touches the store.
 *
 * A controller package exports `ControllerDescriptor`s; the manager builds one `ControllerContext`
 * per controller (its own logger and event source), starts the shared informers, waits for them to
 * sync, then calls `start(signal)`. A controller whose `start` rejects (or that reports failure
 * through `ready`) is logged and restarted with backoff; it never stops the server.
 *
 * Convention for the workload controllers: `src/server/controllers/workloads/index.ts` exports
 * `workloadControllers: readonly ControllerDescriptor[]`, which the manager registers.
 *
 * Beside this file: `resources.ts` (ResourceRef, the `resources` table), `errors.ts` (the client's
 * errors; both re-exported here), `keys.ts` (objectKey/splitKey/controllerOf), `lifecycle.ts`
 * (`controllerFromRun(name, run)` builds the Controller lifecycle from one async function),
 * `work-queue.ts` (`createWorkQueue(log)`).
 */
import type { Logger } from '../../common/log.ts';
import type { ResourceRef } from './resources.ts';

// ---------------------------------------------------------------------------------------------
// Objects

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. Controllers narrow `spec`/`status` with their own interfaces. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** core/v1 ObjectReference, as used by Events' involvedObject. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

// ResourceRef, the \`resources\` table and \`inNamespace\` live in resources.ts.
export { inNamespace, resources } from './resources.ts';
export type { ResourceRef } from './resources.ts';
// The API client's errors live in errors.ts.
export { AlreadyExistsError, ApiError, ConflictError, NotFoundError } from './errors.ts';
export type { ApiFailure } from './errors.ts';

// ---------------------------------------------------------------------------------------------
// The API client

export interface ListOptions {
  /** Label selector in query syntax: "app=web,tier!=db,env in (a,b)". */
  labelSelector?: string;
  /** Field selector in query syntax: "spec.nodeName=n1,status.phase!=Failed". */
  fieldSelector?: string;
  /** "0" reads from the watch cache; unset is a consistent read. */
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  /** All items: the client follows `continue` tokens itself. */
  items: T[];
  /** The list's resourceVersion, to start a watch from. */
  resourceVersion: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Resume after this resourceVersion; a compacted one ends the stream with an `ERROR` 410 event. */
  resourceVersion?: string;
  /** The server ends the watch after this long (apiserver default 30–60 min). */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  /** Aborting ends the iteration without error. */
  signal: AbortSignal;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** For ERROR, a meta/v1 Status (`code` 410 = resourceVersion too old: relist). */
  object: T;
}

export interface WriteOptions {
  fieldManager?: string;
  signal?: AbortSignal;
}

/** `apply`: server-side apply (the patch is the applied configuration; needs `fieldManager`). */
export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** e.g. 'status' to patch only the status subresource. */
  subresource?: string;
  /** Server-side apply: take fields other managers own instead of failing with a conflict. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only if the stored object still has this uid / resourceVersion (else ConflictError). */
  preconditions?: { uid?: string; resourceVersion?: string };
  signal?: AbortSignal;
}

/** One served resource, from discovery (the preferred version of each group). */
export interface ApiResource extends ResourceRef {
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

/**
 * A Kubernetes API client. Every failing call throws: `NotFoundError` (404), `ConflictError`
 * (409 Conflict, e.g. stale resourceVersion or failed precondition), `AlreadyExistsError` (409
 * AlreadyExists), otherwise `ApiError` with the HTTP status and the Status `reason`.
 */
export interface KubeClient {
  /** GET the object, or one of its subresources (`scale`). */
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts?: { signal?: AbortSignal; subresource?: string }): Promise<T>;
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts?: ListOptions): Promise<ObjectList<T>>;
  /** Yields events until the server ends the stream or `opts.signal` aborts. */
  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /** POST; `ref.namespace` (when namespaced) wins over `obj.metadata.namespace`. */
  create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT with `obj.metadata.resourceVersion`: optimistic concurrency, a stale one is a ConflictError. */
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT on the status subresource (only `status` is taken). */
  updateStatus<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts?: PatchOptions): Promise<T>;
  /** Returns the object when the delete is graceful or blocked by finalizers, else undefined. */
  delete(ref: ResourceRef, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined>;
  /** POST to a subresource: pods/binding (a v1 Binding), pods/eviction (a policy/v1 Eviction). */
  createSubresource<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, subresource: string, body: KubeObject, opts?: WriteOptions): Promise<T>;
  /** PUT to a subresource other than status, e.g. namespaces/finalize. */
  replaceSubresource<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource: string, opts?: WriteOptions): Promise<T>;
  /** Every resource the server serves (aggregated discovery), custom resources included; only the preferred version of each group. */
  discover(opts?: { signal?: AbortSignal }): Promise<ApiResource[]>;
}

// ---------------------------------------------------------------------------------------------
// Informers

export interface EventHandler<T extends KubeObject = KubeObject> {
  add?(obj: T): void;
  /** Also called on relist for objects whose resourceVersion changed. */
  update?(oldObj: T, newObj: T): void;
  /** The last state the cache knew (relists detect deletes missed while disconnected). */
  delete?(obj: T): void;
}

/** Read access to an informer's cache. Returned objects are shared: never mutate them. */
export interface Lister<T extends KubeObject = KubeObject> {
  /** `namespace` '' or undefined for cluster-scoped objects. */
  get(namespace: string | undefined, name: string): T | undefined;
  /** All cached objects, optionally of one namespace and matching a label selector (matchLabels/matchExpressions or a plain label map). */
  list(namespace?: string, selector?: LabelSelector | Record<string, string>): T[];
  /** Objects whose index function returned `value` (see `Informer.addIndex`). */
  byIndex(index: string, value: string): T[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/**
 * One resource listed and watched into memory (client-go's SharedIndexInformer). The watch resumes
 * from the last seen resourceVersion; a 410 Gone relists and reconciles the cache, firing the
 * add/update/delete events the gap hid.
 */
export interface Informer<T extends KubeObject = KubeObject> extends Lister<T> {
  readonly ref: ResourceRef;
  /** Handlers added after sync first receive `add` for every cached object. Returns an unsubscribe. */
  addEventHandler(handler: EventHandler<T>): () => void;
  /** Secondary index, e.g. pods by `spec.nodeName`; may be added at any time. */
  addIndex(name: string, fn: (obj: T) => readonly string[]): void;
  /** True after the first list has been loaded into the cache. */
  hasSynced(): boolean;
  /** The resourceVersion of the newest event applied to the cache ('' before sync). */
  lastSyncResourceVersion(): string;
}

/** One informer per resource, shared by every controller (keyed by group/version/resource). */
export interface SharedInformers {
  /** Get or create the informer for `ref` (ref.namespace is ignored: informers are cluster-wide). Created after start, it starts at once. */
  informerFor<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T>;
  /** Resolves when every informer created so far has synced; rejects if `signal` aborts first. */
  waitForSync(signal: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Work queue

/**
 * A rate-limited work queue (client-go's workqueue): a key waiting is queued once; a key being
 * processed is never given to a second worker — added again meanwhile, it runs once more after.
 */
export interface WorkQueue {
  add(key: string): void;
  /** Add after `delayMs` (earlier adds still win). */
  addAfter(key: string, delayMs: number): void;
  /** Add after this key's next backoff: 5 ms doubling per failure up to 1000 s, like client-go. */
  addRateLimited(key: string): void;
  /** Reset the key's backoff (done automatically when the worker succeeds). */
  forget(key: string): void;
  /** Failures recorded for the key since its last success. */
  numRequeues(key: string): number;
  /** Keys waiting (not counting ones being processed or delayed). */
  len(): number;
  /**
   * Run `workers` concurrent loops until `signal` aborts. A worker that resolves: the key is
   * forgotten; one that throws: logged and `addRateLimited`. Resolves once workers have finished.
   */
  run(worker: (key: string) => Promise<void>, opts: { workers: number; signal: AbortSignal }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Events

export type EventType = 'Normal' | 'Warning';

/**
 * Writes core/v1 Events like client-go's recorder: the same (object, type, reason, message) within
 * the aggregation window bumps `count` and `lastTimestamp` on the existing Event instead of
 * creating a new one. The server stores Events with a 1 h TTL (kube-apiserver's --event-ttl).
 * Recording never throws and never blocks the controller; failures are logged.
 */
export interface EventRecorder {
  event(involved: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written (tests, shutdown). */
  flush(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Controllers

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Settings of the controller manager (frozen; from flags in src/server/config.ts). */
export interface ControllerOptions {
  /** Lease not renewed for this long → node Ready=Unknown (kube default 40 s). */
  readonly nodeMonitorGracePeriodMs: number;
  /** How often node leases are checked (kube's --node-monitor-period, 5 s). */
  readonly nodeMonitorPeriodMs: number;
  /** Default worker count per controller (kube: --concurrent-*-syncs, 5). */
  readonly workers: number;
  /** `<data-dir>/server/manifests`, applied by the deploy controller; unset: no manifests are applied. */
  readonly manifestsDir?: string;
}

export interface ControllerContext {
  readonly client: KubeClient;
  readonly informers: SharedInformers;
  /** Events with `source.component` = the controller's name. */
  readonly recorder: EventRecorder;
  /** `log.child({ component: 'controller', controller: name })`. */
  readonly log: Logger;
  readonly clock: Clock;
  readonly options: ControllerOptions;
}

/**
 * Lifecycle as every edgeos component. `start` resolves once the controller runs (informers it
 * needs synced, workers started); `ready` resolves then too. A failure after start rejects
 * `done`, which makes the manager log it and restart the controller. `stop` ends workers and
 * resolves when they have finished.
 */
export interface Controller {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  readonly ready: Promise<void>;
  /** Settles when the controller stopped; rejects when it died. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export interface ControllerDescriptor {
  /** Name as in kube-controller-manager's --controllers ("deployment", "replicaset", …) or "scheduler". */
  readonly name: string;
  create(ctx: ControllerContext): Controller;
}
