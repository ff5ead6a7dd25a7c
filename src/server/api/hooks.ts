/**
 * Per-resource steps that go beyond defaulting and validation and touch other store keys or
 * server state: ClusterIP allocation, namespace and CRD status, serving CRDs. Extra store
 * operations join the object's own write in one transaction.
 */
import type { TxnOp } from '../../store/types.ts';
import type { KubeObject } from '../kinds/types.ts';
import type { ResourceInfo } from '../registry/index.ts';
import type { ApiDeps, Call } from './context.ts';
import { crdHooks } from './crds/crd-hooks.ts';
import { namespaceHooks } from './namespaces/namespace-hooks.ts';
import { serviceHooks } from './services/service-hooks.ts';
import { claimHooks, volumeHooks } from './volumes/volume-hooks.ts';

export interface WriteHooks {
  /** May mutate obj; returns extra ops for the create transaction. Runs after validation. */
  beforeCreate?(d: ApiDeps, c: Call, obj: KubeObject): Promise<TxnOp[]>;
  beforeUpdate?(d: ApiDeps, c: Call, obj: KubeObject, old: KubeObject): Promise<TxnOp[]>;
  /** Extra ops when the object is finally removed from the store. */
  beforeDelete?(d: ApiDeps, obj: KubeObject): Promise<TxnOp[]>;
  /** After a committed write; `obj` is undefined when the object was removed. */
  afterWrite?(d: ApiDeps, name: string, obj: KubeObject | undefined): void;
}

export function hooksFor(r: ResourceInfo): WriteHooks {
  if (r.group === '' && r.plural === 'services') return serviceHooks;
  if (r.group === '' && r.plural === 'namespaces') return namespaceHooks;
  if (r.group === 'apiextensions.k8s.io' && r.plural === 'customresourcedefinitions') return crdHooks;
  if (r.group === '' && r.plural === 'persistentvolumeclaims') return claimHooks;
  if (r.group === '' && r.plural === 'persistentvolumes') return volumeHooks;
  return {};
}
