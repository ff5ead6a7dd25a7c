/**
 * First-start state and start-up loading: the four namespaces every cluster has (default,
 * kube-system, kube-public, kube-node-lease), the `kubernetes` Service in default on the first
 * service IP, and serving of the CRDs already stored.
 */
import { randomUUID } from 'node:crypto';
import { KeyExistsError } from '../../store/errors.ts';
import { objectKey } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';
import type { ApiDeps } from './context.ts';
import { syncCrd } from './crds/serve-crd.ts';
import { decodeStored, encodeForStore } from '../storage/objects.ts';
import { rfc3339 } from '../kinds/age.ts';
import type { KubeObject } from '../storage/types.ts';
import type { TxnOp } from '../../store/types.ts';

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

function mustResolve(d: ApiDeps, group: string, version: string, plural: string): ResourceInfo {
  const r = d.registry.resolve(group, version, plural);
  if (!r) throw new Error(`built-in resource ${plural} missing from the registry`);
  return r;
}

async function createIfMissing(d: ApiDeps, key: string, value: Buffer, extra: TxnOp[] = []): Promise<void> {
  if (await d.store.get(key)) return;
  try {
    await d.store.txn([{ op: 'create', key, value }, ...extra]);
  } catch (e) {
    if (!(e instanceof KeyExistsError)) throw e;
  }
}

export async function bootstrap(d: ApiDeps): Promise<void> {
  const namespaces = mustResolve(d, '', 'v1', 'namespaces');
  const now = rfc3339(d.now());
  for (const name of DEFAULT_NAMESPACES) {
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, uid: randomUUID(), creationTimestamp: now, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    await createIfMissing(d, objectKey(namespaces, '', name), encodeForStore(namespaces, ns));
  }

  const services = mustResolve(d, '', 'v1', 'services');
  const ip = d.clusterIps.firstIp();
  const svc: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', uid: randomUUID(), creationTimestamp: now, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    },
    status: { loadBalancer: {} },
  };
  const ipKv = await d.store.get(d.clusterIps.keyOf(ip));
  const reserve: TxnOp[] = ipKv ? [] : [{ op: 'create', key: d.clusterIps.keyOf(ip), value: Buffer.from(JSON.stringify({ service: 'default/kubernetes' })) }];
  if (!ipKv) await createIfMissing(d, objectKey(services, 'default', 'kubernetes'), encodeForStore(services, svc), reserve);

  const crds = mustResolve(d, 'apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  for (const kv of (await d.store.list(`/registry/${crds.storage}/`)).kvs) {
    const crd = decodeStored(crds, kv);
    syncCrd(d.registry, String(crd.metadata?.name ?? ''), crd);
  }
}
