/**
 * Every Node that is a peer of the pod network, as the feed hub last saw it (feed-kinds.ts
 * `peerView`): what a feed's snapshot sends of other nodes, read here rather than listed and
 * decoded from the store for every new link; and since when each stopped being one, so a resume
 * knows what may have changed while it was away.
 */
import type { KubeObjectJson } from '../../common/link/protocol.ts';

/** A Node as its peers see it, as of the hub's position. */
export interface PeerEntry {
  readonly view: KubeObjectJson;
  /** JSON of `view`: what a feed compares with what it sent. */
  readonly text: string;
  /** The revision of the Node event that set it (or a later one). */
  readonly revision: number;
}

export class PeerIndex {
  readonly #peers = new Map<string, PeerEntry>();
  /** Nodes that stopped being a peer (or were deleted) while the hub ran, and when. */
  readonly #gone = new Map<string, number>();
  /** The revision the index was listed at: before it, what stopped being a peer is unknown. */
  #since = 0;

  /** Every peer as of the hub's position. */
  get entries(): ReadonlyMap<string, PeerEntry> {
    return this.#peers;
  }

  /** Starts over from a list at `revision` (listed: add each Node's view). */
  reset(revision: number): void {
    this.#peers.clear();
    this.#gone.clear();
    this.#since = revision;
  }

  /** A Node of the list (reset) and its view (undefined: no peer). */
  listed(name: string, view: KubeObjectJson | undefined, revision: number): void {
    if (view) this.#peers.set(name, { view, text: JSON.stringify(view), revision });
  }

  /** A Node event: its view (undefined: no peer, or deleted); the entry now, and whether it changed. */
  note(name: string, view: KubeObjectJson | undefined, revision: number): { peer: PeerEntry | null; changed: boolean } {
    const text = view && JSON.stringify(view);
    const was = this.#peers.get(name);
    if (text === was?.text) return { peer: was ?? null, changed: false };
    if (view && text) {
      const peer = { view, text, revision };
      this.#peers.set(name, peer);
      this.#gone.delete(name);
      return { peer, changed: true };
    }
    this.#peers.delete(name);
    this.#gone.set(name, revision);
    return { peer: null, changed: true };
  }

  /**
   * Whether what a node that is at `revision` holds of this Node's peer view may differ from the
   * index: it changed after `revision`, stopped being a peer after it, or `revision` is older
   * than the index and the Node is not in it (it may have stopped being a peer before the hub
   * started).
   */
  changedAfter(name: string, revision: number): boolean {
    const p = this.#peers.get(name);
    if (p) return p.revision > revision;
    const gone = this.#gone.get(name);
    return (gone !== undefined && gone > revision) || revision < this.#since;
  }
}
