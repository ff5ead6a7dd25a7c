/**
 * Service address lifecycle: ClusterIP (allocated on create, honouring a requested IP in range,
 * "None" for headless, nothing for ExternalName) and NodePorts for NodePort/LoadBalancer types.
 * Updates that omit allocated values keep them (apiserver's patchAllocatedValues); allocations
 * that a change no longer needs are released, and everything is released with the Service.
 */
import type { TxnOp } from '../../store/types.ts';
import { child, map, maps, str } from './access.ts';
import { AllocationFailedError, FieldRejectedError } from './field-errors.ts';
import { allocateNodePorts, needsNodePorts, nodePortKey, nodePortsOf } from './node-port.ts';
import type { KubeObject, WriteContext, WriteHooks } from './types.ts';

type Json = Record<string, unknown>;

function requestedIp(s: Json): string {
  if (typeof s.clusterIP === 'string' && s.clusterIP !== '') return s.clusterIP;
  if (Array.isArray(s.clusterIPs) && typeof s.clusterIPs[0] === 'string') return s.clusterIPs[0];
  return '';
}

function ownerOf(obj: KubeObject): string {
  const m = map(obj.metadata);
  return `${str(m?.namespace) ?? ''}/${str(m?.name) ?? ''}`;
}

async function allocateIp(ctx: WriteContext, obj: KubeObject): Promise<TxnOp[]> {
  const s = child(obj, 'spec');
  if (s.type === 'ExternalName') return [];
  const req = requestedIp(s);
  if (req === 'None') {
    s.clusterIP = 'None';
    s.clusterIPs = ['None'];
    return [];
  }
  const res = await ctx.clusterIps.allocate(ctx.store, ownerOf(obj), req || undefined);
  if ('kind' in res) {
    if (res.kind === 'full') throw new AllocationFailedError('failed to allocate a serviceIP: range is full');
    const why =
      res.kind === 'taken'
        ? `failed to allocate IP ${res.ip}: provided IP is already allocated`
        : res.kind === 'out-of-range'
          ? `failed to allocate IP ${res.ip}: the provided IP (${res.ip}) is not in the valid range. The range of valid IPs is ${ctx.clusterIps.cidr}`
          : 'must be a valid IP address';
    throw new FieldRejectedError([{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${res.ip}"}: ${why}` }]);
  }
  s.clusterIP = res.ip;
  s.clusterIPs = [res.ip];
  return [res.op];
}

async function allocatePorts(ctx: WriteContext, obj: KubeObject, keep: ReadonlySet<number>): Promise<TxnOp[]> {
  const s = child(obj, 'spec');
  if (!needsNodePorts(s)) return [];
  const res = await allocateNodePorts(ctx.store, ownerOf(obj), maps(s.ports), keep, ctx.nodePorts);
  if ('ops' in res) return res.ops;
  if (res.kind === 'full') throw new AllocationFailedError('failed to allocate a nodePort: range is full');
  const why = res.kind === 'taken' ? 'provided port is already allocated' : `provided port is not in the valid range. The range of valid ports is ${ctx.nodePorts.min}-${ctx.nodePorts.max}`;
  throw new FieldRejectedError([{ reason: 'FieldValueInvalid', field: `spec.ports[${res.index}].nodePort`, message: `Invalid value: ${res.port}: ${why}` }]);
}

/** Copy nodePorts the update left out from the old ports with the same port number (and name). */
function keepOldNodePorts(s: Json, before: Json): void {
  const old = maps(before.ports);
  for (const p of maps(s.ports)) {
    if (typeof p.nodePort === 'number' && p.nodePort !== 0) continue;
    const match = old.find((o) => o.port === p.port && (o.name ?? '') === (p.name ?? '')) ?? old.find((o) => o.port === p.port);
    if (match && typeof match.nodePort === 'number') p.nodePort = match.nodePort;
  }
}

function releaseIp(ctx: WriteContext, ip: string): TxnOp[] {
  return ip && ip !== 'None' && ctx.clusterIps.contains(ip) ? [ctx.clusterIps.releaseOp(ip)] : [];
}

export const serviceHooks: WriteHooks = {
  async beforeCreate(ctx, obj) {
    const ipOps = await allocateIp(ctx, obj);
    return [...ipOps, ...(await allocatePorts(ctx, obj, new Set()))];
  },
  async beforeUpdate(ctx, obj, old) {
    const s = child(obj, 'spec');
    const before = map(old.spec) ?? {};
    const ops: TxnOp[] = [];
    const oldIp = requestedIp(before);
    if (s.type === 'ExternalName') {
      ops.push(...releaseIp(ctx, oldIp));
      delete s.clusterIP;
      delete s.clusterIPs;
    } else if (requestedIp(s) === '' && oldIp !== '') {
      s.clusterIP = oldIp;
      s.clusterIPs = structuredClone(before.clusterIPs) ?? [oldIp];
    } else if (oldIp === '') ops.push(...(await allocateIp(ctx, obj)));

    const oldPorts = new Set(nodePortsOf(before));
    if (needsNodePorts(s)) {
      keepOldNodePorts(s, before);
      ops.push(...(await allocatePorts(ctx, obj, oldPorts)));
    } else for (const p of maps(s.ports)) delete p.nodePort;
    const nowPorts = new Set(nodePortsOf(s));
    for (const p of oldPorts) if (!nowPorts.has(p)) ops.push({ op: 'delete', key: nodePortKey(p) });
    return ops;
  },
  async beforeDelete(ctx, obj) {
    const s = map(obj.spec) ?? {};
    return [...releaseIp(ctx, requestedIp(s)), ...[...new Set(nodePortsOf(s))].map((p): TxnOp => ({ op: 'delete', key: nodePortKey(p) }))];
  },
};
