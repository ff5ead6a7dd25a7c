/**
 * What kube-apiserver's admission does to new claims and volumes: DefaultStorageClass (a claim that
 * names no class gets the default StorageClass, the newest if several claim to be) and
 * StorageObjectInUseProtection (claims get kubernetes.io/pvc-protection, volumes
 * kubernetes.io/pv-protection). The controllers keep both true for objects that predate them
 * (docs/storage.md); doing it here spares every new claim two writes and a window in which it
 * looks unprotected and classless.
 */
import type { TxnOp } from '../../../store/types.ts';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER, defaultClassOf } from '../../kinds/index.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { storageSegment } from '../../registry/index.ts';
import type { ApiDeps, Call } from '../context.ts';
import { meta } from '../objects.ts';

const CLASSES_PREFIX = `/registry/${storageSegment('storage.k8s.io', 'storageclasses')}/`;
const BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

function addFinalizer(obj: KubeObject, finalizer: string): void {
  const m = meta(obj);
  const list = Array.isArray(m.finalizers) ? (m.finalizers as unknown[]) : [];
  if (!list.includes(finalizer)) m.finalizers = [...list, finalizer];
}

async function defaultClassName(d: ApiDeps): Promise<string | undefined> {
  const classes = (await d.store.list(CLASSES_PREFIX)).kvs.flatMap((kv) => {
    try {
      return [JSON.parse(kv.value.toString('utf8')) as KubeObject];
    } catch {
      return [];
    }
  });
  const name = meta(defaultClassOf(classes) ?? {}).name;
  return typeof name === 'string' ? name : undefined;
}

// WriteHooks of ../hooks.ts, by shape (importing it would close an import cycle).
export const claimHooks = {
  async beforeCreate(d: ApiDeps, _c: Call, obj: KubeObject): Promise<TxnOp[]> {
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const annotations = (meta(obj).annotations ?? {}) as Record<string, unknown>;
    if ((spec.storageClassName === undefined || spec.storageClassName === null) && annotations[BETA_CLASS] === undefined) {
      const name = await defaultClassName(d);
      if (name) obj.spec = { ...spec, storageClassName: name };
    }
    addFinalizer(obj, PVC_PROTECTION_FINALIZER);
    return [];
  },
};

export const volumeHooks = {
  async beforeCreate(_d: ApiDeps, _c: Call, obj: KubeObject): Promise<TxnOp[]> {
    addFinalizer(obj, PV_PROTECTION_FINALIZER);
    return [];
  },
};
