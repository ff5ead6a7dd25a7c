/**
 * Service address lifecycle: ClusterIP (allocated on create, honouring a requested IP in range,
 * "None" for headless, nothing for ExternalName) and NodePorts for NodePort/LoadBalancer types.
 * Updates that omit allocated values keep them (apiserver's patchAllocatedValues); allocations
 * that a change no longer needs are released, and everything is released with the Service.
 */
import type { TxnOp } from '../../../store/types.ts';
import type { KubeObject } from '../../kinds/types.ts';
import type { ApiDeps } from '../context.ts';
import type { WriteHooks } from '../hooks.ts';
import { metaString } from '../objects.ts';
import { ApiError, invalid } from '../status.ts';
import { allocateNodePorts, needsNodePorts, nodePortKey, nodePortsOf } from './node-port.ts';

type Json = Record<string, unknown>;

function spec(obj: KubeObject): Json {
  if (!obj.spec || typeof obj.spec !== 'object') obj.spec = {};
  return obj.spec as Json;
}

function ports(s: Json): Json[] {
  return Array.isArray(s.ports) ? (s.ports as Json[]).filter((p) => p && typeof p === 'object') : [];
}

function requestedIp(s: Json): string {
  if (typeof s.clusterIP === 'string' && s.clusterIP !== '') return s.clusterIP;
  if (Array.isArray(s.clusterIPs) && typeof s.clusterIPs[0] === 'string') return s.clusterIPs[0];
  return '';
}

async function allocateIp(d: ApiDeps, obj: KubeObject): Promise<TxnOp[]> {
  const s = spec(obj);
  if (s.type === 'ExternalName') return [];
  const req = requestedIp(s);
  if (req === 'None') {
    s.clusterIP = 'None';
    s.clusterIPs = ['None'];
    return [];
  }
  const owner = `${metaString(obj, 'namespace')}/${metaString(obj, 'name')}`;
  const res = await d.clusterIps.allocate(d.store, owner, req || undefined);
  if ('kind' in res) {
    if (res.kind === 'full') throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
    const why =
      res.kind === 'taken'
        ? `failed to allocate IP ${res.ip}: provided IP is already allocated`
        : res.kind === 'out-of-range'
          ? `failed to allocate IP ${res.ip}: the provided IP (${res.ip}) is not in the valid range. The range of valid IPs is ${d.clusterIps.cidr}`
          : 'must be a valid IP address';
    throw invalid('Service', '', metaString(obj, 'name'), [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${res.ip}"}: ${why}` }]);
  }
  s.clusterIP = res.ip;
  s.clusterIPs = [res.ip];
  return [res.op];
}

async function allocatePorts(d: ApiDeps, obj: KubeObject, keep: ReadonlySet<number>): Promise<TxnOp[]> {
  const s = spec(obj);
  if (!needsNodePorts(s)) return [];
  const owner = `${metaString(obj, 'namespace')}/${metaString(obj, 'name')}`;
  const res = await allocateNodePorts(d.store, owner, ports(s), keep, d.nodePorts);
  if ('ops' in res) return res.ops;
  if (res.kind === 'full') throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
  const why = res.kind === 'taken' ? 'provided port is already allocated' : `provided port is not in the valid range. The range of valid ports is ${d.nodePorts.min}-${d.nodePorts.max}`;
  throw invalid('Service', '', metaString(obj, 'name'), [{ reason: 'FieldValueInvalid', field: `spec.ports[${res.index}].nodePort`, message: `Invalid value: ${res.port}: ${why}` }]);
}

/** Copy nodePorts the update left out from the old ports with the same port number (and name). */
function keepOldNodePorts(s: Json, before: Json): void {
  const old = ports(before);
  for (const p of ports(s)) {
    if (typeof p.nodePort === 'number' && p.nodePort !== 0) continue;
    const match = old.find((o) => o.port === p.port && (o.name ?? '') === (p.name ?? '')) ?? old.find((o) => o.port === p.port);
    if (match && typeof match.nodePort === 'number') p.nodePort = match.nodePort;
  }
}

function releaseIp(d: ApiDeps, ip: string): TxnOp[] {
  return ip && ip !== 'None' && d.clusterIps.contains(ip) ? [d.clusterIps.releaseOp(ip)] : [];
}

export const serviceHooks: WriteHooks = {
  async beforeCreate(d, _c, obj) {
    const ipOps = await allocateIp(d, obj);
    return [...ipOps, ...(await allocatePorts(d, obj, new Set()))];
  },
  async beforeUpdate(d, _c, obj, old) {
    const s = spec(obj);
    const before = spec(structuredClone(old));
    const ops: TxnOp[] = [];
    const oldIp = requestedIp(before);
    if (s.type === 'ExternalName') {
      ops.push(...releaseIp(d, oldIp));
      delete s.clusterIP;
      delete s.clusterIPs;
    } else if (requestedIp(s) === '' && oldIp !== '') {
      s.clusterIP = oldIp;
      s.clusterIPs = before.clusterIPs ?? [oldIp];
    } else if (oldIp === '') ops.push(...(await allocateIp(d, obj)));

    const oldPorts = new Set(nodePortsOf(before));
    if (needsNodePorts(s)) {
      keepOldNodePorts(s, before);
      ops.push(...(await allocatePorts(d, obj, oldPorts)));
    } else for (const p of ports(s)) delete p.nodePort;
    const nowPorts = new Set(nodePortsOf(s));
    for (const p of oldPorts) if (!nowPorts.has(p)) ops.push({ op: 'delete', key: nodePortKey(p) });
    return ops;
  },
  async beforeDelete(d, obj) {
    const s = spec(structuredClone(obj));
    return [...releaseIp(d, requestedIp(s)), ...[...new Set(nodePortsOf(s))].map((p): TxnOp => ({ op: 'delete', key: nodePortKey(p) }))];
  },
};
