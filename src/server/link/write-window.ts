/**
 * What the links write within one short window, handed over as one batch: the store transaction
 * of the Lease renewals (lease-batch.ts) and of the kubelet Events (event-batch.ts). The first item
 * starts a timer of `windowMs`; the batch goes when it fires or when it holds `maxItems`. After
 * close() each item goes at once. `write` answers every item of its batch itself and never rejects.
 */
export interface WriteWindow<T> {
  add(item: T): void;
  /** Writes what waits now (the server is stopping); later items are written at once. */
  close(): Promise<void>;
}

export function writeWindow<T>(o: { windowMs: number; maxItems: number; write: (batch: T[]) => Promise<void> }): WriteWindow<T> {
  let pending: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length > 0) await o.write(batch);
  }

  return {
    add(item) {
      pending.push(item);
      if (closed || pending.length >= o.maxItems) void flush();
      else timer ??= setTimeout(() => void flush(), o.windowMs);
    },
    async close() {
      closed = true;
      await flush();
    },
  };
}
