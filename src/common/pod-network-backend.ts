// `--pod-network-backend` of `edgeos join`/`agent` and `edgeos server` (for its local agent): how a
// node reaches other nodes' pods on a subnet it shares (docs/podnet.md, "The direct path on a
// shared subnet"). One parse and one message for both commands.
import { InvalidInputError } from './errors.ts';

/**
 * `auto` routes peers on a subnet this node shares natively and reaches the rest over VXLAN (or the
 * relay); `vxlan` reaches every direct peer over VXLAN.
 */
export const POD_NETWORK_BACKENDS = ['auto', 'vxlan'] as const;
export type PodNetworkBackend = (typeof POD_NETWORK_BACKENDS)[number];

/** `given.from` names the flag or variable in the error; absent: `auto`. */
export function parsePodNetworkBackend(given: { value: string; from: string } | undefined): PodNetworkBackend {
  if (!given) return 'auto';
  const v = given.value.trim().toLowerCase();
  const found = POD_NETWORK_BACKENDS.find((b) => b === v);
  if (!found) {
    throw new InvalidInputError(`${given.from}: ${JSON.stringify(given.value)} is not a pod network backend: one of ${POD_NETWORK_BACKENDS.join(', ')} (auto: native routing to nodes on a shared subnet, VXLAN to the others; vxlan: VXLAN to every node)`);
  }
  return found;
}
