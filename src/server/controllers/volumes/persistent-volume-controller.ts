/**
 * The persistentvolume controller (kube-controller-manager's "persistentvolume-binder",
 * pkg/controller/volume/persistentvolume) with the built-in local-path provisioner:
 *
 * - a claim that names no class gets the default StorageClass (RetroactiveDefaultStorageClass);
 * - an unbound claim binds to a matching available volume, or — for a local-path class once the
 *   scheduler put `volume.kubernetes.io/selected-node` on it (WaitForFirstConsumer) — gets a new
 *   PersistentVolume pinned to that node (local-path.ts; the scheduler itself provisions the
 *   claims of the pods it binds, this covers claims whose node was chosen otherwise); binding
 *   writes the volume's claimRef, then the claim's volumeName and both phases, with Kubernetes'
 *   annotations and Events;
 * - a volume whose claim is gone is Released and reclaimed by its policy: Retain keeps it, Delete
 *   deletes a local-path volume's object, whose finalizer then waits for the node's agent to delete
 *   the data — at once, or when the node comes back (docs/storage.md).
 */
import { LOCAL_PATH_PROVISIONERS, PROVISIONED_BY_ANNOTATION, localPathNode } from '../../../common/local-volumes.ts';
import { objectKey, splitKey } from '../keys.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../core-types.ts';
import { ConflictError, NotFoundError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, WorkQueue } from '../types.ts';
import { queueController } from '../workloads/queue-controller.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER,
  claimClass, claimHasNoClass, defaultClass, findMatchingVolume, isWaitForFirstConsumer, volumeBoundTo,
} from './claims.ts';
import { nodeStoragePath, provisionLocalVolume, provisionedVolumeName } from './local-path.ts';

/** How soon a claim waiting for its node's storage path is looked at again. */
const RETRY_MS = 5000;
const CONFLICT_RETRY_MS = 100;
const RESYNC_MS = 15_000;

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const claimKeyOf = (pv: PersistentVolume): string | undefined => {
  const ref = pv.spec?.claimRef;
  return ref?.name ? `${ref.namespace ?? ''}/${ref.name}` : undefined;
};

export function persistentVolumeController(ctx: ControllerContext): Controller {
  const claims = ctx.informers.informerFor<PersistentVolumeClaim>(resources.persistentVolumeClaims);
  const volumes = ctx.informers.informerFor<PersistentVolume>(resources.persistentVolumes);
  const classes = ctx.informers.informerFor<StorageClass>(resources.storageClasses);
  const nodes = ctx.informers.informerFor<Node>(resources.nodes);
  volumes.addIndex('claim', (pv) => {
    const k = claimKeyOf(pv);
    return k ? [k] : [];
  });
  const claimRef = (c: PersistentVolumeClaim) => inNamespace(resources.persistentVolumeClaims, c.metadata.namespace ?? '');
  /** Claims told they wait for their first consumer, or that their volume was provisioned: once each, not on every sync. */
  const toldWaiting = new Set<string>();
  const toldProvisioned = new Set<string>();

  async function volumePhase(pv: PersistentVolume, phase: string, extra: Record<string, unknown> = {}): Promise<void> {
    if (pv.status?.phase === phase && Object.keys(extra).length === 0) return;
    const status = { phase, ...extra, ...(pv.status?.phase !== phase ? { lastPhaseTransitionTime: rfc3339(ctx.clock.now()) } : {}) };
    await ctx.client.patch(resources.persistentVolumes, pv.metadata.name ?? '', 'merge', { status }, { subresource: 'status' });
  }

  /**
   * The claim's half of a binding (bindClaimToVolume + updateClaimStatus), and the volume's phase.
   * The claim's volumeName is what a waiting pod needs (the scheduler binds it then); the phases
   * are written beside it rather than after it, so a burst of claims is not held up by them.
   */
  async function completeBinding(c: PersistentVolumeClaim, pv: PersistentVolume): Promise<void> {
    const name = pv.metadata.name ?? '';
    const ann = c.metadata.annotations ?? {};
    const writes: Promise<unknown>[] = [volumePhase(pv, 'Bound')];
    if (c.spec?.volumeName !== name || ann[ANN_BIND_COMPLETED] !== 'yes') {
      const byController = c.spec?.volumeName !== name ? { [ANN_BOUND_BY_CONTROLLER]: 'yes' } : {};
      writes.push(ctx.client.patch(claimRef(c), c.metadata.name ?? '', 'merge', {
        metadata: { annotations: { [ANN_BIND_COMPLETED]: 'yes', ...byController } },
        spec: { volumeName: name },
      }));
    }
    const st = c.status ?? {};
    const want = { phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: pv.spec?.capacity ?? {} };
    if (st.phase !== want.phase || JSON.stringify(st.accessModes) !== JSON.stringify(want.accessModes) || JSON.stringify(st.capacity) !== JSON.stringify(want.capacity)) {
      writes.push(ctx.client.patch(claimRef(c), c.metadata.name ?? '', 'merge', { status: want }, { subresource: 'status' }));
    }
    const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Told once when a claim becomes bound to the local volume provisioned for it, as the
   * provisioner's own event: the claim arrives bound (the volume's create bound it in the same
   * transaction, whoever provisioned it: the scheduler in PreBind, or this controller), so the
   * binding is seen as the claim's transition, not as a write of this controller.
   */
  function tellProvisioned(old: PersistentVolumeClaim, c: PersistentVolumeClaim): void {
    const name = c.spec?.volumeName ?? '';
    const uid = c.metadata.uid ?? '';
    if (old.spec?.volumeName || !name || name !== provisionedVolumeName(c) || toldProvisioned.has(uid)) return;
    const pv = volumes.get(undefined, name);
    const provisioner = pv?.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] ?? classes.get(undefined, claimClass(c))?.provisioner ?? '';
    if (!LOCAL_PATH_PROVISIONERS.has(provisioner)) return;
    toldProvisioned.add(uid);
    const node = c.metadata.annotations?.[ANN_SELECTED_NODE] ?? (pv && localPathNode(pv));
    ctx.log.info({ claim: objectKey(c), volume: name, node }, 'provisioned a local volume');
    ctx.recorder.event(c, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name} using ${provisioner}`);
  }

  /** The volume's half (bindVolumeToClaim): its claimRef, written against its resourceVersion. */
  async function bindVolume(pv: PersistentVolume, c: PersistentVolumeClaim): Promise<PersistentVolume> {
    const ref = pv.spec?.claimRef;
    if (ref?.uid === c.metadata.uid) return pv;
    const next: PersistentVolume = structuredClone(pv);
    next.spec = { ...next.spec, claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '', uid: c.metadata.uid ?? '', resourceVersion: c.metadata.resourceVersion ?? '' } };
    if (!ref) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
    return ctx.client.update(resources.persistentVolumes, next);
  }

  async function provision(c: PersistentVolumeClaim, sc: StorageClass, nodeName: string, queue: WorkQueue): Promise<void> {
    const node = nodes.get(undefined, nodeName);
    const path = node && nodeStoragePath(node);
    if (!node || !path) {
      const why = node ? `node "${nodeName}" does not report a local storage path (is its agent running pods?)` : `node "${nodeName}" not found`;
      ctx.recorder.event(c, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name ?? ''}": ${why}`);
      queue.addAfter(`claim:${objectKey(c)}`, RETRY_MS);
      return;
    }
    const pv = volumes.get(undefined, provisionedVolumeName(c)) ?? (await provisionLocalVolume(ctx.client, c, sc, node, path));
    await completeBinding(c, pv);
  }

  async function syncUnboundClaim(c: PersistentVolumeClaim, queue: WorkQueue): Promise<void> {
    const className = claimClass(c);
    const sc = className ? classes.get(undefined, className) : undefined;
    const delayed = isWaitForFirstConsumer(sc);
    const selected = c.metadata.annotations?.[ANN_SELECTED_NODE];
    if (delayed && !selected) {
      const uid = c.metadata.uid ?? '';
      if (!toldWaiting.has(uid)) ctx.recorder.event(c, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      toldWaiting.add(uid);
      return;
    }
    const node = selected ? nodes.get(undefined, selected) : undefined;
    const match = delayed && !node ? undefined : findMatchingVolume(c, volumes.list(), delayed ? node : undefined);
    if (match) {
      await completeBinding(c, await bindVolume(match, c));
      return;
    }
    if (sc && LOCAL_PATH_PROVISIONERS.has(sc.provisioner ?? '')) {
      if (!delayed) {
        ctx.recorder.event(c, 'Warning', 'ProvisioningFailed', `${sc.provisioner ?? ''} provisions on the node a pod is scheduled to: StorageClass "${className}" needs volumeBindingMode WaitForFirstConsumer`);
        return;
      }
      await provision(c, sc, selected ?? '', queue);
      return;
    }
    if (sc) {
      const provisioner = sc.provisioner ?? '';
      if (c.metadata.annotations?.[ANN_STORAGE_PROVISIONER] !== provisioner) {
        await ctx.client.patch(claimRef(c), c.metadata.name ?? '', 'merge', { metadata: { annotations: { [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner } } });
      }
      ctx.recorder.event(c, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
      return;
    }
    if (className) ctx.recorder.event(c, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
    else ctx.recorder.event(c, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
  }

  async function syncClaim(namespace: string, name: string, queue: WorkQueue): Promise<void> {
    const c = claims.get(namespace, name);
    if (!c) return;
    if (!c.spec?.volumeName && claimHasNoClass(c)) {
      const def = defaultClass(classes.list());
      if (def) {
        await ctx.client.patch(claimRef(c), name, 'merge', { spec: { storageClassName: def.metadata.name } });
        return; // the update brings the claim back
      }
    }
    if (!c.spec?.volumeName) {
      // A volume already naming this claim (provisioned, or pre-bound by an administrator) completes it.
      const own = volumes.byIndex('claim', `${namespace}/${name}`).find((pv) => volumeBoundTo(pv, c) && pv.spec?.claimRef?.uid);
      // A provisioned volume created Bound most likely had its claim bound in the same
      // transaction, seen here before the claim's update (two watches): a read tells, and the
      // update then brings the claim back here; writing the binding again would only race it.
      if (own?.status?.phase === 'Bound' && own.metadata.name === provisionedVolumeName(c)) {
        const live = await ctx.client.get<PersistentVolumeClaim>(claimRef(c), name);
        if (live.metadata.uid === c.metadata.uid && live.spec?.volumeName) return;
      }
      if (own) await completeBinding(c, own);
      else await syncUnboundClaim(c, queue);
      return;
    }
    const pv = volumes.get(undefined, c.spec.volumeName);
    if (!pv) {
      // The claim's informer may be ahead of the volumes' (a provisioned volume and its claim's
      // binding are one transaction, seen through two watches): only a volume the API does not
      // know either is lost. One it knows comes through the informer, which syncs the claim.
      const live = await ctx.client.get<PersistentVolume>(resources.persistentVolumes, c.spec.volumeName).catch((e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      if (live) return;
      if (c.status?.phase === 'Bound') {
        await ctx.client.patch(claimRef(c), name, 'merge', { status: { phase: 'Lost' } }, { subresource: 'status' });
        ctx.recorder.event(c, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      }
      return;
    }
    if (!pv.spec?.claimRef) {
      // Pre-bound by the user through volumeName: the volume's half first.
      await completeBinding(c, await bindVolume(pv, c));
      return;
    }
    if (!volumeBoundTo(pv, c)) {
      ctx.recorder.event(c, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
      return;
    }
    await completeBinding(c, pv);
  }

  /** The volume's claim is gone: Released, then its reclaim policy. */
  async function reclaim(pv: PersistentVolume): Promise<void> {
    const name = pv.metadata.name ?? '';
    if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') await volumePhase(pv, 'Released');
    if (pv.metadata.deletionTimestamp) return;
    switch (pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain') {
      case 'Retain':
        return;
      case 'Delete':
        if (localPathNode(pv)) {
          // The object waits on its finalizer until the node's agent deleted the data.
          await ctx.client.delete(resources.persistentVolumes, name, { preconditions: { uid: pv.metadata.uid } }).catch((e: unknown) => {
            if (!(e instanceof NotFoundError)) throw e;
          });
          ctx.log.info({ volume: name, node: localPathNode(pv) }, 'released local volume deleted; its node removes the data');
          return;
        }
        ctx.recorder.event(pv, 'Warning', 'VolumeFailedDelete', `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`);
        await volumePhase(pv, 'Failed', { message: 'no deletable volume plugin matched' });
        return;
      default:
        ctx.recorder.event(pv, 'Warning', 'VolumeFailedRecycle', 'Volume has no recycler plugin, use Retain or Delete');
        await volumePhase(pv, 'Failed', { message: 'no volume plugin matched' });
    }
  }

  async function syncVolume(name: string, queue: WorkQueue): Promise<void> {
    const pv = volumes.get(undefined, name);
    if (!pv) return;
    const ref = pv.spec?.claimRef;
    if (!ref?.name) {
      if (!pv.metadata.deletionTimestamp) await volumePhase(pv, 'Available');
      return;
    }
    const c = claims.get(ref.namespace ?? '', ref.name);
    if (c && (!ref.uid || ref.uid === c.metadata.uid)) {
      if (c.spec?.volumeName === name || !c.spec?.volumeName) {
        // Bound, or the claim's half is pending: the claim's sync completes it.
        if (!ref.uid) await volumePhase(pv, 'Available');
        else queue.add(`claim:${ref.namespace ?? ''}/${ref.name}`);
        return;
      }
      // The claim went to another volume: a binding this controller made is undone.
      if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === 'yes') {
        const next: PersistentVolume = structuredClone(pv);
        next.spec = { ...next.spec, claimRef: null };
        await ctx.client.update(resources.persistentVolumes, next);
      }
      return;
    }
    if (!ref.uid) {
      await volumePhase(pv, 'Available'); // pre-bound by name to a claim that does not exist yet
      return;
    }
    // The informer may lag: only a claim the API does not know either is gone (upstream checks too).
    try {
      const live = await ctx.client.get<PersistentVolumeClaim>(inNamespace(resources.persistentVolumeClaims, ref.namespace ?? ''), ref.name);
      if (live.metadata.uid === ref.uid) return;
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    await reclaim(pv);
  }

  return queueController(ctx, {
    name: 'persistentvolume',
    wire: (queue) => {
      const claimChanged = (c: PersistentVolumeClaim) => queue.add(`claim:${objectKey(c)}`);
      const unboundClaims = () => {
        for (const c of claims.list()) if (!c.spec?.volumeName) claimChanged(c);
      };
      const volumeChanged = (pv: PersistentVolume) => {
        queue.add(`volume:${pv.metadata.name ?? ''}`);
        const k = claimKeyOf(pv);
        if (k) queue.add(`claim:${k}`);
        // An available volume may be what a waiting claim needs.
        else unboundClaims();
      };
      // Upstream's --pvclaimbinder-sync-period: everything is looked at again now and then.
      const resync = setInterval(() => {
        for (const c of claims.list()) claimChanged(c);
        for (const pv of volumes.list()) queue.add(`volume:${pv.metadata.name ?? ''}`);
      }, RESYNC_MS);
      return [
        () => clearInterval(resync),
        claims.addEventHandler({
          add: claimChanged,
          update: (o, c) => {
            tellProvisioned(o, c);
            claimChanged(c);
          },
          delete: (c) => {
            toldWaiting.delete(c.metadata.uid ?? '');
            toldProvisioned.delete(c.metadata.uid ?? '');
            for (const pv of volumes.byIndex('claim', objectKey(c))) queue.add(`volume:${pv.metadata.name ?? ''}`);
          },
        }),
        volumes.addEventHandler({ add: volumeChanged, update: (_o, pv) => volumeChanged(pv), delete: volumeChanged }),
        // A new default class, or a class that appeared after its claims.
        classes.addEventHandler({ add: unboundClaims, update: unboundClaims }),
        nodes.addEventHandler({
          update: (a, b) => {
            if (nodeStoragePath(a) !== nodeStoragePath(b)) unboundClaims();
          },
        }),
      ];
    },
    async sync(key, queue) {
      try {
        if (key.startsWith('claim:')) {
          const { namespace, name } = splitKey(key.slice('claim:'.length));
          await syncClaim(namespace ?? '', name, queue);
        } else if (key.startsWith('volume:')) await syncVolume(key.slice('volume:'.length), queue);
      } catch (e) {
        // Deleted meanwhile: the informer brings what follows. A write that met a newer object
        // (the claim and its volume are written by several syncs) looks again once the informer caught up.
        if (e instanceof NotFoundError) return;
        if (!(e instanceof ConflictError)) throw e;
        ctx.log.debug({ key }, 'conflict; looking again');
        queue.addAfter(key, CONFLICT_RETRY_MS);
      }
    },
  });
}

export const persistentVolumeControllerDescriptor: ControllerDescriptor = { name: 'persistentvolume', create: persistentVolumeController };
