/**
 * ControllerExpectations (pkg/controller/controller_utils.go): after a sync creates or deletes
 * children, the owner's next sync must wait until the informer has seen those writes, or it would
 * count a stale cache and create duplicates. Informer handlers lower the counts; expectations older
 * than five minutes are ignored, as upstream, so a lost watch event cannot wedge a controller.
 */
const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

interface Pending {
  adds: number;
  deletes: number;
  /** Names of children whose deletion we wait to observe (UIDTrackingControllerExpectations). */
  deleting: Set<string>;
  setAt: number;
}

export class Expectations {
  readonly #pending = new Map<string, Pending>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** True when the owner may act on what its cache shows. */
  satisfied(key: string): boolean {
    const p = this.#pending.get(key);
    if (!p) return true;
    if (p.adds <= 0 && p.deletes <= 0) return true;
    return this.#now() - p.setAt > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, n: number): void {
    this.expect(key, n, []);
  }

  expectDeletions(key: string, names: readonly string[]): void {
    this.expect(key, 0, names);
  }

  /** Replace the owner's expectations with `adds` creations and the deletion of `deleting`. */
  expect(key: string, adds: number, deleting: readonly string[]): void {
    this.#pending.set(key, { adds, deletes: deleting.length, deleting: new Set(deleting), setAt: this.#now() });
  }

  /** A child appeared in the cache (or its creation failed). */
  creationObserved(key: string): void {
    const p = this.#pending.get(key);
    if (p) p.adds--;
  }

  /** A child disappeared or began terminating (or its deletion failed). */
  deletionObserved(key: string, name: string): void {
    const p = this.#pending.get(key);
    if (p && p.deleting.delete(name)) p.deletes--;
  }

  /** The owner is gone. */
  forget(key: string): void {
    this.#pending.delete(key);
  }
}
