import type { RuntimePod } from './runtime-pod.ts';

/**
 * What each pod holds in the runtime, as its worker last saw it, kept valid by the PLEG (kubelet's
 * pod status cache, pkg/kubelet/container/cache.go, reduced to what edgeos needs). The PLEG lists
 * every sandbox and container once per period; a pod whose runtime state changed loses its entry
 * (and its worker is woken), so a worker's periodic resync of an unchanged pod reads its entry
 * instead of listing and inspecting that pod again — for 20 pods, ≈ 6 CRI round trips per second
 * (grpc-js and protobuf decoding on the agent's one thread, which also answers cluster DNS) fewer
 * on an idle node.
 *
 * Trust is bounded two ways: an entry is served only while relists keep succeeding (a PLEG that
 * cannot list cannot notice a change), and a worker stores what it saw only if nothing
 * invalidated the pod since it began its pass (a change the PLEG reported meanwhile may not be in
 * what it saw).
 */
export class PodRuntimeCache {
  readonly #entries = new Map<string, RuntimePod>();
  /** Bumped by every invalidation of a pod: a pass that began before it must not store. */
  readonly #generation = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxRelistAgeMs: number;
  #relistedAt = -Infinity;

  /** `maxRelistAgeMs`: how old the last successful relist may be for entries to be served. */
  constructor(o: { now: () => number; maxRelistAgeMs: number }) {
    this.#now = o.now;
    this.#maxRelistAgeMs = o.maxRelistAgeMs;
  }

  /** The pod's runtime state as last seen, if nothing changed since and the PLEG is current. */
  get(uid: string): RuntimePod | undefined {
    if (this.#now() - this.#relistedAt > this.#maxRelistAgeMs) return undefined;
    return this.#entries.get(uid);
  }

  /** Taken before a pass reads the runtime; hand it back to `set`. */
  token(uid: string): number {
    return this.#generation.get(uid) ?? 0;
  }

  /** Stores what a pass saw (its last view after acting), unless the pod was invalidated meanwhile. */
  set(uid: string, rt: RuntimePod, token: number): void {
    if (this.token(uid) !== token) return;
    this.#entries.set(uid, rt);
  }

  /** The PLEG saw the pod's sandboxes or containers change (or the pod is gone). */
  invalidate(uid: string): void {
    this.#entries.delete(uid);
    this.#generation.set(uid, this.token(uid) + 1);
  }

  /** The worker is gone: nothing of the pod is kept. */
  forget(uid: string): void {
    this.#entries.delete(uid);
    this.#generation.delete(uid);
  }

  /** The cache's clock, for `relisted`. */
  now(): number {
    return this.#now();
  }

  /** A relist that began at `at` succeeded: every entry not invalidated by it is still current. */
  relisted(at: number): void {
    this.#relistedAt = Math.max(this.#relistedAt, at);
  }

  get size(): number {
    return this.#entries.size;
  }
}
