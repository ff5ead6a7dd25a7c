/**
 * The storage layer between the store and everything that serves objects (api, link, join):
 * objects as the store holds them (objects.ts: JSON without metadata.resourceVersion, which is the
 * key's modRevision, as in Kubernetes' etcd3 storage), conversion between a served version and the
 * stored form (convert.ts), serving stored bytes without re-encoding (stored-json.ts), reading one
 * object (read.ts), the watch-fed cache of Namespaces and ServiceAccounts that admission reads
 * (watch-cache.ts) and the mapping of store errors to Kubernetes Status errors (store-errors.ts).
 * Nothing here knows HTTP requests. The Kubernetes Status vocabulary (status.ts: ApiError and the
 * Status constructors) lives here too, below the API that answers with it, so that storage imports
 * nothing of api.
 */
import type { KeyValue } from '../../store/types.ts';
import type { KubeObject } from '../kinds/types.ts';

export type { KubeObject };

/** One stored object: decoded for the API, and the key-value it came from (modRevision, bytes). */
export interface Current {
  readonly obj: KubeObject;
  readonly kv: KeyValue;
}

/** One object of a list page: its stored form, and the decoded object when a selector needed it. */
export interface ListedObject {
  readonly kv: KeyValue;
  readonly obj?: KubeObject;
}

/** meta/v1 ListMeta as a list response carries it. */
export interface ListMetaOut {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}
