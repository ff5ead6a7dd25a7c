/**
 * Which server each node's link is on, in the datastore (LINKS_PREFIX<node> → server id), so any
 * server can forward a tunnel to the one that holds the link. Written when an agent links, removed
 * when its link ends — only if the record is still ours: an agent that moved to another server
 * meanwhile has been recorded there. A record left by a killed server points at a server that no
 * longer answers for the node until the agent links elsewhere and overwrites it (seconds later).
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { ConflictError, KeyExistsError, NotFoundError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import { LINKS_PREFIX } from './keys.ts';

export class LinkLocations {
  readonly #store: Store;
  readonly #self: string;
  readonly #log: Logger;
  /** node → the modRevision of the record this server wrote. */
  readonly #ours = new Map<string, number>();
  /** Nodes linked here now (a link that ends before its record is written removes it afterwards). */
  readonly #here = new Set<string>();

  constructor(store: Store, self: string, log: Logger) {
    this.#store = store;
    this.#self = self;
    this.#log = log;
  }

  linked(node: string): void {
    this.#here.add(node);
    this.#put(node).then(() => {
      if (!this.#here.has(node)) this.unlinked(node);
    }).catch((err: unknown) => this.#log.warn({ node, err: errorMessage(err) }, 'cannot record where the node is linked; tunnels through other servers may not reach it'));
  }

  unlinked(node: string): void {
    this.#here.delete(node);
    const rev = this.#ours.get(node);
    if (rev === undefined) return;
    this.#ours.delete(node);
    this.#store.delete(LINKS_PREFIX + node, { expectedModRevision: rev }).catch((err: unknown) => {
      if (err instanceof ConflictError || err instanceof NotFoundError) return; // linked elsewhere since
      this.#log.debug({ node, err: errorMessage(err) }, 'cannot remove the link record');
    });
  }

  /** The server the node's agent is linked to, as recorded. */
  async serverOf(node: string): Promise<string | undefined> {
    const kv = await this.#store.get(LINKS_PREFIX + node);
    if (!kv) return undefined;
    try {
      const v = JSON.parse(kv.value.toString('utf8')) as { server?: unknown };
      return typeof v.server === 'string' ? v.server : undefined;
    } catch {
      return undefined;
    }
  }

  async #put(node: string): Promise<void> {
    const key = LINKS_PREFIX + node;
    const value = Buffer.from(JSON.stringify({ server: this.#self, at: new Date().toISOString() }));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const kv = await this.#store.update(key, value).catch((err: unknown) => {
          if (err instanceof NotFoundError) return this.#store.create(key, value);
          throw err;
        });
        this.#ours.set(node, kv.modRevision);
        return;
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err; // created by another server in between: write again
      }
    }
  }
}
