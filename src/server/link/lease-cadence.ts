/**
 * A node's Lease renewals as the store sees them. The agent renews every 10 s (the kubelet's
 * cadence, which also keeps an idle link from going silent: keepalive.ts), and every renewal is
 * acked at once; but the Lease object is written only when the last write is LEASE_STORE_EVERY_MS
 * old, so a node costs one Lease write per 20 s instead of per 10 s (10,000 nodes: 500 writes/s
 * instead of 1,000).
 *
 * Why this stays correct: the node lifecycle controller declares a node unknown when the Lease
 * (or the Ready heartbeat) has not changed for the 40 s grace period, timed by its own clock when
 * it sees the change. A live link's beats at 0, 10, 20, 30 s write at 0, 20, 40 s, so the Lease
 * is never older than ~20 s while the node is alive: Ready stays Ready. A node that
 * dies stops renewing; the controller notices ≤ 40 s after the last write, which is ≤ 40 s after
 * the node's last heartbeat — the same bound as writing every beat. A new link (reconnect,
 * server restart) writes on its first renewal, and a change of the duration is written at once.
 */
import type { NodeWrites } from './types.ts';

export const LEASE_STORE_EVERY_MS = 20_000;

export function leaseAtStoreCadence(writes: NodeWrites, everyMs = LEASE_STORE_EVERY_MS, now: () => number = Date.now): NodeWrites {
  let writtenAt: number | undefined;
  let writtenDuration: number | undefined;
  return {
    ...writes,
    async renewLease(durationSeconds) {
      // A beat that lands within ~1 s of the cadence is written too (timers drift).
      if (writtenAt !== undefined && durationSeconds === writtenDuration && now() - writtenAt < everyMs - 1000) return;
      await writes.renewLease(durationSeconds);
      writtenAt = now();
      writtenDuration = durationSeconds;
    },
  };
}
