// What keeps several agents on one host apart (tests, bench/fleet): the names of their host-wide
// objects — the CNI bridge, the nft tables, the VXLAN devices, the QoS cgroup root — end in the
// same 8 hex digits of their data dir, so one agent's objects are recognisable as one set.
import { createHash } from 'node:crypto';

/** SHA-256 of the data dir (podnet derives the relay's link-local address from its bytes too). */
export function dataDirDigest(dataDir: string): Buffer {
  return createHash('sha256').update(dataDir).digest();
}

/** The 8 hex digits every per-agent host name ends in. */
export function dataDirSuffix(dataDir: string): string {
  return dataDirDigest(dataDir).toString('hex').slice(0, 8);
}
