// kube-scheduler's VolumeBinding plugin (pkg/scheduler/framework/plugins/volumebinding) for the
// claims a pod's volumes name. PreFilter: a missing claim, one being deleted, or an unbound claim
// whose class binds immediately makes the pod unschedulable everywhere. Filter: a bound claim's
// volume must admit the node (PersistentVolume nodeAffinity: a pod whose data lives on node A never
// lands on B); an unbound WaitForFirstConsumer claim needs a matching available volume on the node
// or a provisioner that can create one there. PreBind: a local-path claim to provision is left to
// the pod's binding, which provisions it in the same transaction; the chosen node is written on
// each other unbound claim (`volume.kubernetes.io/selected-node`), the persistentvolume controller
// or an external provisioner provisions or binds it, and the pod is bound to the node only once
// all its claims are Bound. Messages are upstream's.
import { LOCAL_PATH_PROVISIONERS } from '../../../common/local-volumes.ts';
import type { Informer, KubeClient } from '../types.ts';
import { inNamespace, resources } from '../types.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../core-types.ts';
import { podClaimNames } from '../core-types.ts';
import { ANN_BIND_COMPLETED, ANN_SELECTED_NODE, effectiveClass, findMatchingVolume, isWaitForFirstConsumer, volumeFitsNode } from '../volumes/claims.ts';
import { nodeStoragePath } from '../volumes/local-path.ts';

export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';

/** kube-scheduler's default --bind-timeout for volumes: how long PreBind waits for the claims. */
const BIND_TIMEOUT_MS = 600_000;

/** What PreFilter learnt about a pod's claims, for Filter and PreBind. */
export interface PodVolumes {
  readonly bound: readonly PersistentVolumeClaim[];
  readonly delayed: readonly { claim: PersistentVolumeClaim; sc: StorageClass | undefined }[];
}

export const NO_VOLUMES: PodVolumes = { bound: [], delayed: [] };

export class VolumeBinding {
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly classes: Informer<StorageClass>;
  private readonly client: KubeClient;

  constructor(deps: { claims: Informer<PersistentVolumeClaim>; volumes: Informer<PersistentVolume>; classes: Informer<StorageClass>; client: KubeClient }) {
    this.claims = deps.claims;
    this.volumes = deps.volumes;
    this.classes = deps.classes;
    this.client = deps.client;
  }

  /** The pod's claims sorted into bound and delayed, or why no node can take it. */
  preFilter(pod: Pod): { volumes: PodVolumes } | { unresolvable: string } {
    const names = podClaimNames(pod);
    if (names.length === 0) return { volumes: NO_VOLUMES };
    const ns = pod.metadata.namespace ?? '';
    const bound: PersistentVolumeClaim[] = [];
    const delayed: { claim: PersistentVolumeClaim; sc: StorageClass | undefined }[] = [];
    for (const name of names) {
      const claim = this.claims.get(ns, name);
      if (!claim) return { unresolvable: `persistentvolumeclaim "${name}" not found` };
      if (claim.metadata.deletionTimestamp) return { unresolvable: `persistentvolumeclaim "${name}" is being deleted` };
      if (claim.spec?.volumeName) {
        bound.push(claim);
        continue;
      }
      const className = effectiveClass(claim, this.classes.list());
      const sc = className ? this.classes.get(undefined, className) : undefined;
      if (!isWaitForFirstConsumer(sc)) return { unresolvable: 'pod has unbound immediate PersistentVolumeClaims' };
      delayed.push({ claim, sc });
    }
    return { volumes: { bound, delayed } };
  }

  /** Why `node` cannot hold the pod's volumes; empty when it can. */
  filter(v: PodVolumes, node: Node): string[] {
    const reasons: string[] = [];
    for (const claim of v.bound) {
      const pv = this.volumes.get(undefined, claim.spec?.volumeName ?? '');
      if (!pv) return [REASON_PV_NOT_EXIST];
      if (!volumeFitsNode(pv, node)) {
        reasons.push(REASON_NODE_CONFLICT);
        break;
      }
    }
    const taken = new Set<string>();
    for (const { claim, sc } of v.delayed) {
      const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
      // A claim already promised to another node is provisioned there.
      if (selected && selected !== node.metadata.name) return [...reasons, REASON_BIND_CONFLICT];
      const match = findMatchingVolume(claim, this.volumes.list(), node, taken);
      if (match) {
        taken.add(match.metadata.name ?? '');
        continue;
      }
      if (!this.canProvision(sc, node)) return [...reasons, REASON_BIND_CONFLICT];
    }
    return reasons;
  }

  /** checkVolumeProvisions: a local-path class needs a node whose agent reports where it keeps volumes. */
  private canProvision(sc: StorageClass | undefined, node: Node): boolean {
    if (!sc?.provisioner || sc.provisioner === 'kubernetes.io/no-provisioner') return false;
    if (LOCAL_PATH_PROVISIONERS.has(sc.provisioner) && !nodeStoragePath(node)) return false;
    const topologies = sc.allowedTopologies ?? [];
    if (topologies.length === 0) return true;
    const labels = node.metadata.labels ?? {};
    return topologies.some((t) => (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '')));
  }

  /**
   * The chosen node goes on the pod's unbound claims: a local-path claim without a matching
   * volume there is left to the pod's binding, which provisions it in the same transaction (no
   * write here), any other gets `volume.kubernetes.io/selected-node` for the persistentvolume
   * controller or an external provisioner. Then waits until every other claim is bound.
   */
  async preBind(pod: Pod, v: PodVolumes, node: Node, signal?: AbortSignal): Promise<void> {
    const ns = pod.metadata.namespace ?? '';
    const nodeName = node.metadata.name ?? '';
    const taken = new Set<string>();
    const provisioned = new Set<string>();
    await Promise.all(v.delayed.map(async ({ claim, sc }) => {
      const current = this.claims.get(ns, claim.metadata.name ?? '') ?? claim;
      if (current.spec?.volumeName) return;
      const match = findMatchingVolume(current, this.volumes.list(), node, taken);
      if (match) taken.add(match.metadata.name ?? '');
      const path = nodeStoragePath(node);
      if (!match && sc && LOCAL_PATH_PROVISIONERS.has(sc.provisioner ?? '') && path) {
        // The pod's binding provisions it: the volume, the claim's binding and the pod's in one
        // transaction (the API's pods/binding, kinds/persistent-volume.ts provisionOnBinding).
        provisioned.add(current.metadata.name ?? '');
        return;
      }
      if (current.metadata.annotations?.[ANN_SELECTED_NODE] === nodeName) return;
      await this.client.patch(inNamespace(resources.persistentVolumeClaims, ns), current.metadata.name ?? '', 'merge', { metadata: { annotations: { [ANN_SELECTED_NODE]: nodeName } } });
    }));
    const names = podClaimNames(pod).filter((n) => !provisioned.has(n));
    if (names.length === 0) return;
    // isPVCFullyBound: the claim names its volume and the binding is complete; its status phase
    // follows in a later write that the pod need not wait for.
    const allBound = () => names.every((n) => {
      const c = this.claims.get(ns, n);
      return Boolean(c?.spec?.volumeName) && c?.metadata.annotations?.[ANN_BIND_COMPLETED] === 'yes';
    });
    if (allBound()) return;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', aborted);
        if (err) reject(err);
        else resolve();
      };
      const aborted = () => done(new Error('the scheduler is stopping'));
      // Only updates and deletes: a handler's replay of the cache (adds) cannot settle it before `off` exists.
      const off = this.claims.addEventHandler({
        update: () => allBound() && done(),
        delete: (c) => c.metadata.namespace === ns && names.includes(c.metadata.name ?? '') && done(new Error(`persistentvolumeclaim "${c.metadata.name ?? ''}" was deleted`)),
      });
      const timer = setTimeout(() => done(new Error('binding volumes: timed out waiting for the condition')), BIND_TIMEOUT_MS);
      signal?.addEventListener('abort', aborted, { once: true });
      if (allBound()) done();
    });
  }
}
