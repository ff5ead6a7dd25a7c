/**
 * A node's Lease renewals written straight to the store (docs/link.md, "Lease writes"). Every
 * other write of the link goes through the in-process API as the node (node-writes.ts), and so did
 * these: a full HTTP/1.1 exchange over an in-memory stream pair, authorization, admission, managed
 * fields, a read and a write — at 1,800 linked hollow nodes a quarter of the server's busy CPU, and
 * with the garbage it left most of what made a 10,000-node fleet not fit one small server.
 *
 * What a renewal changes is known and always allowed: the node's own Lease in kube-node-lease
 * (the Node authorizer allows it unconditionally, NodeRestriction checks only the name), three
 * fields of its spec. So once the API has written the Lease (created it, or after anyone else
 * changed it), later renewals take the stored Lease our last write left, set holderIdentity,
 * leaseDurationSeconds and renewTime, and update the store on condition that the key is still at
 * that revision — the store's compare-and-swap, as the API's update is. Watches (the lifecycle
 * controller, kubectl, the console) see an ordinary update with a new resourceVersion. A Lease
 * changed or deleted by anyone else fails the condition and is renewed through the API again.
 * Not kept up: the managedFields time of the agent's entry (the fields stay the agent's).
 * The conditional update is the server's LeaseBatch (lease-batch.ts): the renewals of every link
 * within 100 ms share one store transaction.
 */
import type { Store } from '../../store/types.ts';
import { ConflictError, NotFoundError } from '../../store/errors.ts';
import { ResourceRegistry, objectKey } from '../registry/index.ts';
import { microTime } from './node-writes.ts';
import type { ConditionalUpdate } from './lease-batch.ts';
import type { NodeWrites } from './types.ts';

const leases = new ResourceRegistry().resolve('coordination.k8s.io', 'v1', 'leases')!;

export function leaseRenewalsInStore(
  writes: NodeWrites,
  store: Store,
  node: string,
  now: () => Date = () => new Date(),
  update: ConditionalUpdate = (key, value, rev) => store.update(key, value, { expectedModRevision: rev }),
): NodeWrites {
  const key = objectKey(leases, 'kube-node-lease', node);
  /** The stored Lease as our last write left it. */
  let last: { value: Buffer; modRevision: number } | undefined;
  return {
    ...writes,
    async renewLease(durationSeconds) {
      if (last) {
        const lease = JSON.parse(last.value.toString('utf8')) as { spec?: Record<string, unknown> };
        lease.spec = { ...(lease.spec ?? {}), holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime: microTime(now()) };
        try {
          last = await update(key, Buffer.from(JSON.stringify(lease), 'utf8'), last.modRevision);
          return;
        } catch (err) {
          if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
          last = undefined;
        }
      }
      await writes.renewLease(durationSeconds);
      last = await store.get(key);
    },
  };
}
