import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { builtinResources } from '../../../src/server/registry/index.ts';
import { admit, ago, behavior, defaulted, headers, row } from './helpers.ts';

function obj(apiVersion: string, kind: string, body: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name: 'x', namespace: 'default', creationTimestamp: ago(600), ...meta }, ...body };
}

describe('every stored kind the registry serves', () => {
  it('has validation and a table', () => {
    const missing = builtinResources()
      .filter((r) => !r.virtual)
      .filter((r) => {
        const b = behavior(r.group, r.kind);
        return !b?.validate || !b.table;
      })
      .map((r) => `${r.group}/${r.kind}`);
    expect(missing).toEqual([]);
  });

  it('table cells match the columns for an empty object', () => {
    for (const r of builtinResources().filter((x) => !x.virtual)) {
      const b = behavior(r.group, r.kind);
      const cells = b?.table?.row({ metadata: { name: 'n' } }, new Date());
      expect(cells?.length, `${r.group}/${r.kind}`).toBe(b?.table?.columns.length);
    }
  });
});

describe('PersistentVolumeClaim and PersistentVolume', () => {
  it('PVC defaults, validation and table', () => {
    const pvc = defaulted('', 'PersistentVolumeClaim', obj('v1', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path' } }, { name: 'data' }));
    expect(pvc.spec).toMatchObject({ volumeMode: 'Filesystem' });
    expect(pvc.status).toEqual({ phase: 'Pending' });
    expect(headers('', 'PersistentVolumeClaim')).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    expect(row('', 'PersistentVolumeClaim', pvc)).toEqual(['data', 'Pending', '', '', '', 'local-path', '<unset>', '10m', 'Filesystem']);
    pvc.spec = { ...(pvc.spec as object), volumeName: 'pv-1' };
    pvc.status = { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'] };
    expect(row('', 'PersistentVolumeClaim', pvc).slice(1, 5)).toEqual(['Bound', 'pv-1', '1Gi', 'RWO,RWX']);
    expect(admit('', 'PersistentVolumeClaim', obj('v1', 'PersistentVolumeClaim', { spec: {} }))).toEqual([
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
  });

  it('PV defaults and table', () => {
    const pv = defaulted('', 'PersistentVolume', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1', creationTimestamp: ago(60) }, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' }, claimRef: { namespace: 'default', name: 'data' } } });
    expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
    expect(admit('', 'PersistentVolume', pv)).toEqual([]);
    expect(row('', 'PersistentVolume', pv)).toEqual(['pv-1', '5Gi', 'RWO', 'Retain', 'Pending', 'default/data', '', '<unset>', '', '60s', 'Filesystem']);
  });
});

describe('networking', () => {
  it('Ingress hosts, address and ports', () => {
    const ing = obj('networking.k8s.io/v1', 'Ingress', {
      spec: { ingressClassName: 'traefik', rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }, {}, { host: 'd.example.com' }, { host: 'e.example.com' }], tls: [{ hosts: ['a.example.com'] }] },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.5' }] } },
    });
    expect(headers('networking.k8s.io', 'Ingress')).toEqual(['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    expect(row('networking.k8s.io', 'Ingress', ing)).toEqual(['x', 'traefik', 'a.example.com,b.example.com,d.example.com + 2 more...', '10.0.0.5', '80, 443', '10m']);
    expect(row('networking.k8s.io', 'Ingress', obj('networking.k8s.io/v1', 'Ingress', { spec: { rules: [{}] } })).slice(1, 5)).toEqual(['<none>', '*', '', '80']);
  });

  it('IngressClass parameters and NetworkPolicy defaults', () => {
    const ic = obj('networking.k8s.io/v1', 'IngressClass', { spec: { controller: 'traefik.io/ingress-controller', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } });
    expect(row('networking.k8s.io', 'IngressClass', ic)).toEqual(['x', 'traefik.io/ingress-controller', 'IngressParameters.k8s.example.com/external-lb', '10m']);
    const np = defaulted('networking.k8s.io', 'NetworkPolicy', obj('networking.k8s.io/v1', 'NetworkPolicy', { spec: { podSelector: { matchLabels: { app: 'db' } }, egress: [{ ports: [{ port: 53 }] }] } }));
    expect(np.spec).toMatchObject({ policyTypes: ['Ingress', 'Egress'], egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }] });
    expect(row('networking.k8s.io', 'NetworkPolicy', np)).toEqual(['x', 'app=db', '10m']);
  });
});

describe('cluster configuration kinds', () => {
  it('StorageClass marks the default class', () => {
    const sc = defaulted('storage.k8s.io', 'StorageClass', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', creationTimestamp: ago(60), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path' });
    expect(row('storage.k8s.io', 'StorageClass', sc)).toEqual(['local-path (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false, '60s']);
    expect(admit('storage.k8s.io', 'StorageClass', { metadata: { name: 'x' } })).toEqual(['provisioner: Required value']);
  });

  it('PriorityClass and RuntimeClass', () => {
    const pc = defaulted('scheduling.k8s.io', 'PriorityClass', { metadata: { name: 'high', creationTimestamp: ago(60) }, value: 1000 });
    expect(row('scheduling.k8s.io', 'PriorityClass', pc)).toEqual(['high', 1000, false, '60s', 'PreemptLowerPriority']);
    expect(admit('scheduling.k8s.io', 'PriorityClass', { metadata: { name: 'huge' }, value: 2_000_000_000 })).toEqual([
      'value: Invalid value: 2000000000: maximum allowed value of a user defined priority is 1000000000',
    ]);
    expect(row('node.k8s.io', 'RuntimeClass', { metadata: { name: 'gvisor', creationTimestamp: ago(60) }, handler: 'runsc' })).toEqual(['gvisor', 'runsc', '60s']);
    expect(admit('node.k8s.io', 'RuntimeClass', { metadata: { name: 'g' }, handler: 'Run_SC' })[0]).toMatch(/^handler: Invalid value: "Run_SC": a lowercase RFC 1123 label/);
  });

  it('ControllerRevision names its controller', () => {
    const cr = obj('apps/v1', 'ControllerRevision', { revision: 3, data: {} }, { name: 'web-5d8f', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }] });
    expect(row('apps', 'ControllerRevision', cr)).toEqual(['web-5d8f', 'statefulset.apps/web', 3, '10m']);
  });

  it('PodDisruptionBudget bounds', () => {
    const pdb = obj('policy/v1', 'PodDisruptionBudget', { spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: 2 } });
    expect(row('policy', 'PodDisruptionBudget', pdb)).toEqual(['x', '1', 'N/A', 2, '10m']);
    expect(admit('policy', 'PodDisruptionBudget', obj('policy/v1', 'PodDisruptionBudget', { spec: { maxUnavailable: '150%' } }))).toEqual(['spec.maxUnavailable: Invalid value: 150%: must not be greater than 100%']);
  });

  it('HorizontalPodAutoscaler defaults and TARGETS', () => {
    const hpa = defaulted('autoscaling', 'HorizontalPodAutoscaler', obj('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 } }));
    expect(hpa.spec).toMatchObject({ minReplicas: 1, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] });
    expect(headers('autoscaling', 'HorizontalPodAutoscaler')).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    expect(row('autoscaling', 'HorizontalPodAutoscaler', hpa)).toEqual(['x', 'Deployment/web', 'cpu: <unknown>/80%', '1', 5, 0, '10m']);
    hpa.status = { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 42 } } }] };
    expect(row('autoscaling', 'HorizontalPodAutoscaler', hpa)[2]).toBe('cpu: 42%/80%');
    expect(admit('autoscaling', 'HorizontalPodAutoscaler', obj('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 2 } }))).toEqual([
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    ]);
  });

  it('ResourceQuota REQUEST and LIMIT', () => {
    const q = obj('v1', 'ResourceQuota', { spec: { hard: { pods: '10' } }, status: { hard: { 'limits.cpu': '2', pods: '10', 'requests.cpu': '1' }, used: { pods: '3', 'requests.cpu': '500m' } } });
    expect(row('', 'ResourceQuota', q)).toEqual(['x', '10m', 'pods: 3/10, requests.cpu: 500m/1', 'limits.cpu: 0/2']);
    expect(admit('', 'ResourceQuota', obj('v1', 'ResourceQuota', { spec: { hard: { cpu: 'lots' } } }))).toEqual([
      `spec.hard[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    ]);
  });

  it('CertificateSigningRequest CONDITION', () => {
    const csr = { metadata: { name: 'node-csr', creationTimestamp: ago(60) }, spec: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', username: 'system:node:edge-1', expirationSeconds: 86400, request: 'LS0t' }, status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'LS0t' } };
    expect(row('certificates.k8s.io', 'CertificateSigningRequest', csr)).toEqual(['node-csr', '60s', 'kubernetes.io/kube-apiserver-client-kubelet', 'system:node:edge-1', '24h', 'Approved,Issued']);
    expect(admit('certificates.k8s.io', 'CertificateSigningRequest', { metadata: { name: 'c' }, spec: {} })).toEqual(['spec.request: Required value', 'spec.signerName: Required value']);
  });
});
