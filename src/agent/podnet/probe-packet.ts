/**
 * The packets of the pod network's probe (relay.ts): a VXLAN + Ethernet header the agent puts in
 * front of what it hands to a VXLAN port itself, and the probe's own IPv4/UDP datagram between two
 * nodes' overlay addresses.
 */
import { ipv4ToInt } from '../../common/cluster-network.ts';
import { VXLAN_ID } from './types.ts';

/** UDP port of the probe socket, on the node's overlay address (its pod CIDR's `.0`). */
export const PROBE_PORT = 8473;
/** The first bytes of every probe payload. */
export const MAGIC = Buffer.from('EOSP');
export const VXLAN_HEADER = 8;
export const ETH_HEADER = 14;

/** The VXLAN header (VNI 1) and the inner Ethernet header of an IPv4 frame from `srcMac` to `dstMac`. */
export function vxlanHeader(dstMac: Buffer, srcMac: Buffer): Buffer {
  const h = Buffer.alloc(VXLAN_HEADER + ETH_HEADER);
  h[0] = 0x08; // the I flag: a valid VNI follows
  h.writeUIntBE(VXLAN_ID, 4, 3);
  dstMac.copy(h, VXLAN_HEADER);
  srcMac.copy(h, VXLAN_HEADER + 6);
  h.writeUInt16BE(0x0800, VXLAN_HEADER + 12);
  return h;
}

export const macBytes = (mac: string) => Buffer.from(mac.split(':').map((b) => parseInt(b, 16)));

/** An IPv4/UDP packet from src:PROBE_PORT to dst:PROBE_PORT carrying `payload` (UDP checksum 0: none, as IPv4 allows). */
export function probePacket(src: string, dst: string, payload: Buffer): Buffer {
  const p = Buffer.alloc(28 + payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(0x4000, 6); // don't fragment
  p[8] = 64;
  p[9] = 17;
  p.writeUInt32BE(ipv4ToInt(src)!, 12);
  p.writeUInt32BE(ipv4ToInt(dst)!, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += p.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p.writeUInt16BE(~sum & 0xffff, 10);
  p.writeUInt16BE(PROBE_PORT, 20);
  p.writeUInt16BE(PROBE_PORT, 22);
  p.writeUInt16BE(8 + payload.length, 24);
  payload.copy(p, 28);
  return p;
}

/** The probe's payload: the magic, its kind (Q/R over VXLAN, N/M native, B goodbye) and a sequence number. */
export function probePayload(kind: string, seq: number): Buffer {
  const payload = Buffer.alloc(MAGIC.length + 5);
  MAGIC.copy(payload, 0);
  payload.write(kind, MAGIC.length);
  payload.writeUInt32BE(seq >>> 0, MAGIC.length + 1);
  return payload;
}
