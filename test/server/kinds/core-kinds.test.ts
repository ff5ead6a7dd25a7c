import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/server/kinds/types.ts';
import { base64ErrorOffset } from '../../../src/server/kinds/secret.ts';
import { admit, ago, defaulted, headers, row } from './helpers.ts';

function obj(apiVersion: string, kind: string, body: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name: 'x', namespace: 'default', creationTimestamp: ago(120), ...meta }, ...body };
}

describe('Service', () => {
  const svc = (spec: Record<string, unknown>, name = 'web') => obj('v1', 'Service', { spec }, { name });

  it('defaults ClusterIP services', () => {
    const s = defaulted('', 'Service', svc({ selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https', name: 'https' }] }));
    expect(s.spec).toEqual({
      selector: { app: 'web' },
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 443, targetPort: 'https', name: 'https', protocol: 'TCP' },
      ],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
  });

  it('NodePort and LoadBalancer get externalTrafficPolicy', () => {
    const s = defaulted('', 'Service', svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }));
    expect(s.spec).toMatchObject({ externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid', { ports: [{ port: 80 }] }, []],
    ['no ports', { selector: { app: 'x' } }, ['spec.ports: Required value']],
    ['headless without ports is fine', { clusterIP: 'None' }, []],
    [
      'port out of range (targetPort defaults to it, so upstream reports both)',
      { ports: [{ port: 0 }] },
      ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive'],
    ],
    ['targetPort out of range', { ports: [{ port: 80, targetPort: 70000 }] }, ['spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['named targetPort must be a port name', { ports: [{ port: 80, targetPort: 'Web_1' }] }, ['spec.ports[0].targetPort: Invalid value: "Web_1": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
    ['two ports need names', { ports: [{ port: 80 }, { port: 81, name: 'b' }] }, ['spec.ports[0].name: Required value']],
    ['bad type', { type: 'Magic', ports: [{ port: 80 }] }, ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['ExternalName needs externalName', { type: 'ExternalName' }, ['spec.externalName: Required value']],
    [
      'bad selector value',
      { ports: [{ port: 80 }], selector: { app: 'a b' } },
      [expect.stringMatching(/^spec\.selector: Invalid value: "a b": a valid label must be/) as unknown as string],
    ],
  ])('%s', (_name, spec, want) => {
    expect(admit('', 'Service', svc(spec))).toEqual(want);
  });

  it('names are DNS-1035 labels', () => {
    expect(admit('', 'Service', svc({ ports: [{ port: 80 }] }, '1web'))).toEqual([
      `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
  });

  it('port names are DNS-1123 labels: kubectl create service names ports "80-8080"', () => {
    expect(admit('', 'Service', svc({ ports: [{ name: '80-8080', port: 80, targetPort: 8080 }] }))).toEqual([]);
    expect(admit('', 'Service', svc({ ports: [{ name: 'Web_1', port: 80 }] }))).toEqual([
      expect.stringMatching(/^spec\.ports\[0\]\.name: Invalid value: "Web_1": a lowercase RFC 1123 label must consist of/) as unknown as string,
    ]);
  });

  it('Service topology: trafficDistribution and the service.edgeos.io/topology annotation are checked', () => {
    const ok = { ports: [{ port: 80 }], trafficDistribution: 'PreferClose' };
    expect(admit('', 'Service', svc(ok))).toEqual([]);
    expect(admit('', 'Service', svc({ ports: [{ port: 80 }], trafficDistribution: 'Nearby' }))).toEqual([
      'spec.trafficDistribution: Unsupported value: "Nearby": supported values: "PreferClose", "PreferSameNode", "PreferSameZone"',
    ]);
    const annotated = (v: string) => obj('v1', 'Service', { spec: { ports: [{ port: 80 }] } }, { name: 'web', annotations: { 'service.edgeos.io/topology': v } });
    expect(admit('', 'Service', annotated('pool,*'))).toEqual([]);
    expect(admit('', 'Service', annotated('zone'))).toEqual([
      'metadata.annotations[service.edgeos.io/topology]: Invalid value: "zone": "zone" is not a topology scope (node, pool or * separated by commas, such as pool,*)',
    ]);
    expect(admit('', 'Service', annotated('*,pool'))).toEqual(['metadata.annotations[service.edgeos.io/topology]: Invalid value: "*,pool": "*" (every endpoint) must come last']);
  });

  it('clusterIP is immutable', () => {
    const old = defaulted('', 'Service', svc({ ports: [{ port: 80 }], clusterIP: '10.43.0.10' }));
    const next = structuredClone(old);
    (next.spec as Record<string, unknown>).clusterIP = '10.43.0.11';
    expect(admit('', 'Service', next, old)).toEqual(['spec.clusterIP: Invalid value: "10.43.0.11": field is immutable']);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    ['cluster ip', { type: 'ClusterIP', clusterIP: '10.43.0.10', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } }, {}, ['web', 'ClusterIP', '10.43.0.10', '<none>', '80/TCP', '2m', 'app=web']],
    [
      'node port',
      { type: 'NodePort', clusterIP: '10.43.0.11', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] },
      {},
      ['web', 'NodePort', '10.43.0.11', '<none>', '80:30080/TCP,53/UDP', '2m', '<none>'],
    ],
    ['pending load balancer', { type: 'LoadBalancer', clusterIP: '10.43.0.12', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] }, {}, ['web', 'LoadBalancer', '10.43.0.12', '<pending>', '80:31000/TCP', '2m', '<none>']],
    [
      'load balancer with ingress',
      { type: 'LoadBalancer', clusterIP: '10.43.0.12', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
      { loadBalancer: { ingress: [{ ip: '192.168.1.5' }] } },
      ['web', 'LoadBalancer', '10.43.0.12', '192.168.1.5', '80:31000/TCP', '2m', '<none>'],
    ],
    ['external name', { type: 'ExternalName', externalName: 'db.example.com' }, {}, ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '2m', '<none>']],
    ['headless', { type: 'ClusterIP', clusterIP: 'None', ports: [] }, {}, ['web', 'ClusterIP', 'None', '<none>', '<none>', '2m', '<none>']],
  ])('table: %s', (_name, spec, status, want) => {
    expect(row('', 'Service', obj('v1', 'Service', { spec, status }, { name: 'web' }))).toEqual(want);
  });

  it('headers', () => {
    expect(headers('', 'Service')).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(headers('', 'Service', true)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  });
});

describe('ConfigMap and Secret', () => {
  it('ConfigMap keys and DATA count', () => {
    expect(admit('', 'ConfigMap', obj('v1', 'ConfigMap', { data: { 'a.txt': '1' }, binaryData: { b: 'AA==' } }))).toEqual([]);
    expect(admit('', 'ConfigMap', obj('v1', 'ConfigMap', { data: { 'bad key': '1' } }))).toEqual([
      `data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
    expect(admit('', 'ConfigMap', obj('v1', 'ConfigMap', { data: { a: '1' }, binaryData: { a: 'AA==' } }))).toEqual(['binaryData[a]: Invalid value: "a": duplicate of key present in data']);
    expect(admit('', 'ConfigMap', obj('v1', 'ConfigMap', { data: { a: 'x'.repeat(1024 * 1024 + 1) } }))).toEqual([': Too long: must have at most 1048576 bytes']);
    expect(headers('', 'ConfigMap')).toEqual(['NAME', 'DATA', 'AGE']);
    expect(row('', 'ConfigMap', obj('v1', 'ConfigMap', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }))).toEqual(['x', 3, '2m']);
  });

  it('immutable ConfigMaps keep their data', () => {
    const old = obj('v1', 'ConfigMap', { data: { a: '1' }, immutable: true });
    expect(admit('', 'ConfigMap', obj('v1', 'ConfigMap', { data: { a: '2' }, immutable: true }), old)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
  });

  it('Secret defaults to Opaque and checks typed keys', () => {
    const s = defaulted('', 'Secret', obj('v1', 'Secret', { data: { password: 'cGFzcw==' } }));
    expect(s.type).toBe('Opaque');
    expect(admit('', 'Secret', obj('v1', 'Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } }))).toEqual(['data[tls.key]: Required value']);
    expect(admit('', 'Secret', obj('v1', 'Secret', { type: 'kubernetes.io/dockerconfigjson', data: {} }))).toEqual(['data[.dockerconfigjson]: Required value']);
    const old = defaulted('', 'Secret', obj('v1', 'Secret', { data: {} }));
    expect(admit('', 'Secret', obj('v1', 'Secret', { type: 'kubernetes.io/basic-auth', data: { username: 'dQ==' } }), old)).toEqual(['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']);
    expect(headers('', 'Secret')).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(row('', 'Secret', s)).toEqual(['x', 'Opaque', 1, '2m']);
  });
});

describe('Namespace, Node, ServiceAccount', () => {
  it('Namespace defaults, label names and table', () => {
    const ns: KubeObject = defaulted('', 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', creationTimestamp: ago(86400 * 3) } });
    expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(ns.status).toEqual({ phase: 'Active' });
    expect(row('', 'Namespace', ns)).toEqual(['team-a', 'Active', '3d']);
    expect(admit('', 'Namespace', { metadata: { name: 'team.a' } })).toEqual(['metadata.name: Invalid value: "team.a": must not contain dots']);
    expect(admit('', 'Namespace', { metadata: { name: 'a', namespace: 'b' } })).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });

  it('Node status, roles and wide columns', () => {
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'edge-1', creationTimestamp: ago(7200), labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': 'true' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'edge-1' }],
        nodeInfo: { kubeletVersion: 'v1.32.0-edgeos', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'containerd://1.7.24' },
      },
    };
    expect(headers('', 'Node', true)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    expect(row('', 'Node', node)).toEqual([
      'edge-1',
      'Ready,SchedulingDisabled',
      'control-plane,master',
      '120m',
      'v1.32.0-edgeos',
      '10.0.0.5',
      '<none>',
      'Debian GNU/Linux 12 (bookworm)',
      '6.1.0-18-amd64',
      'containerd://1.7.24',
    ]);
    expect(row('', 'Node', { metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }).slice(1, 3)).toEqual(['NotReady', '<none>']);
    expect(row('', 'Node', { metadata: { name: 'n' } })[1]).toBe('Unknown');
    expect(admit('', 'Node', { metadata: { name: 'n' }, spec: { taints: [{ key: 'k', effect: 'Never' }] } })).toEqual([
      'spec.taints[0].effect: Unsupported value: "Never": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
    ]);
    const n = defaulted('', 'Node', { metadata: { name: 'n' }, status: { capacity: { cpu: '4' } } });
    expect((n.status as Record<string, unknown>).allocatable).toEqual({ cpu: '4' });
  });

  it('ServiceAccount SECRETS', () => {
    expect(headers('', 'ServiceAccount')).toEqual(['NAME', 'SECRETS', 'AGE']);
    expect(row('', 'ServiceAccount', obj('v1', 'ServiceAccount', {}, { name: 'default' }))).toEqual(['default', 0, '2m']);
  });
});

describe('Endpoints, EndpointSlice, Event, Lease', () => {
  it('Endpoints formats at most three addresses', () => {
    const ep = obj('v1', 'Endpoints', {
      subsets: [{ addresses: [{ ip: '10.42.0.1' }, { ip: '10.42.0.2' }], ports: [{ port: 80 }, { port: 443 }] }],
    });
    expect(row('', 'Endpoints', ep)).toEqual(['x', '10.42.0.1:80,10.42.0.2:80,10.42.0.1:443 + 1 more...', '2m']);
    expect(row('', 'Endpoints', obj('v1', 'Endpoints', {}))[1]).toBe('<none>');
    expect(defaulted('', 'Endpoints', ep).subsets).toEqual([{ addresses: [{ ip: '10.42.0.1' }, { ip: '10.42.0.2' }], ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] }]);
  });

  it('EndpointSlice', () => {
    const slice = obj('discovery.k8s.io/v1', 'EndpointSlice', { addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.42.0.1'] }] });
    expect(headers('discovery.k8s.io', 'EndpointSlice')).toEqual(['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    expect(row('discovery.k8s.io', 'EndpointSlice', slice)).toEqual(['x', 'IPv4', '80', '10.42.0.1', '2m']);
    expect(admit('discovery.k8s.io', 'EndpointSlice', obj('discovery.k8s.io/v1', 'EndpointSlice', {}))).toEqual(['addressType: Required value']);
  });

  it('Events print like kubectl get events, for both API versions', () => {
    const core = obj('v1', 'Event', {
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned default/web to edge-1 ',
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
      source: { component: 'default-scheduler' },
      firstTimestamp: ago(300),
      lastTimestamp: ago(60),
      count: 2,
    }, { name: 'web.1' });
    expect(headers('', 'Event')).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(row('', 'Event', core)).toEqual(['60s', 'Normal', 'Scheduled', 'pod/web', '', 'default-scheduler', 'Successfully assigned default/web to edge-1', '5m', 2, 'web.1']);
    const v1 = obj('events.k8s.io/v1', 'Event', {
      type: 'Warning',
      reason: 'BackOff',
      note: 'Back-off restarting failed container',
      regarding: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{web}' },
      eventTime: ago(30),
      reportingController: 'kubelet',
      reportingInstance: 'edge-1',
      action: 'Restart',
    });
    expect(row('events.k8s.io', 'Event', v1)).toEqual(['30s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{web}', 'kubelet, edge-1', 'Back-off restarting failed container', '30s', 1, 'x']);
    expect(admit('events.k8s.io', 'Event', obj('events.k8s.io/v1', 'Event', { reason: 'X', action: 'Y' }))).toEqual(['eventTime: Required value', 'reportingController: Required value', 'reportingInstance: Required value']);
  });

  it('Lease HOLDER', () => {
    expect(row('coordination.k8s.io', 'Lease', obj('coordination.k8s.io/v1', 'Lease', { spec: { holderIdentity: 'edge-1' } }))).toEqual(['x', 'edge-1', '2m']);
    expect(row('coordination.k8s.io', 'Lease', obj('coordination.k8s.io/v1', 'Lease', { spec: {} }))[1]).toBe('<unknown>');
    expect(admit('coordination.k8s.io', 'Lease', obj('coordination.k8s.io/v1', 'Lease', { spec: { leaseDurationSeconds: 0 } }))).toEqual([
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    ]);
  });
});

describe('RBAC and CRDs', () => {
  const G = 'rbac.authorization.k8s.io';
  it('Role rules and CREATED AT', () => {
    const role = obj(`${G}/v1`, 'Role', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }, { creationTimestamp: '2026-01-10T11:58:00.000Z' });
    expect(admit(G, 'Role', role)).toEqual([]);
    expect(row(G, 'Role', role)).toEqual(['x', '2026-01-10T11:58:00Z']);
    expect(admit(G, 'Role', obj(`${G}/v1`, 'Role', { rules: [{ apiGroups: [''], resources: ['pods'] }] }))).toEqual(['rules[0].verbs: Required value: verbs must contain at least one value']);
    expect(admit(G, 'ClusterRole', { metadata: { name: 'system:reader' }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] })).toEqual([]);
  });

  it('bindings default apiGroups, validate subjects, and keep roleRef', () => {
    const rb = obj(`${G}/v1`, 'RoleBinding', {
      roleRef: { kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'ci', namespace: 'build' }, { kind: 'Group', name: 'devs' }],
    });
    expect(admit(G, 'RoleBinding', rb)).toEqual([]);
    expect((rb.roleRef as Record<string, unknown>).apiGroup).toBe(G);
    expect(headers(G, 'RoleBinding', true)).toEqual(['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS']);
    expect(row(G, 'RoleBinding', rb)).toEqual(['x', 'Role/reader', '2m', 'alice', 'devs', 'build/ci']);
    const changed = structuredClone(rb);
    (changed.roleRef as Record<string, unknown>).name = 'writer';
    expect(admit(G, 'RoleBinding', changed, rb)).toEqual([expect.stringMatching(/^roleRef: Invalid value: .*: cannot change roleRef$/)]);
    expect(admit(G, 'ClusterRoleBinding', { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] })).toEqual([
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'subjects[0].namespace: Required value',
    ]);
  });

  it('CRD defaults and validation', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'crontabs.stable.example.com', creationTimestamp: '2026-01-10T11:00:00Z' },
      spec: {
        group: 'stable.example.com',
        scope: 'Namespaced',
        names: { plural: 'crontabs', kind: 'CronTab' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    };
    expect(admit('apiextensions.k8s.io', 'CustomResourceDefinition', crd)).toEqual([]);
    expect(crd.spec.names).toEqual({ plural: 'crontabs', kind: 'CronTab', singular: 'crontab', listKind: 'CronTabList' });
    expect(row('apiextensions.k8s.io', 'CustomResourceDefinition', crd)).toEqual(['crontabs.stable.example.com', '2026-01-10T11:00:00Z']);
    const bad = structuredClone(crd);
    bad.metadata.name = 'crontab.stable.example.com';
    bad.spec.versions[0]!.storage = false;
    expect(admit('apiextensions.k8s.io', 'CustomResourceDefinition', bad)).toEqual([
      'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
      'spec.versions: Invalid value: []string{"v1"}: must have exactly one version marked as storage version',
    ]);
  });
});

describe('Secret data encoding', () => {
  it('merges stringData into base64 data and drops it', () => {
    const s = defaulted('', 'Secret', obj('v1', 'Secret', { data: { a: 'eA==', b: 'eA==' }, stringData: { b: 'hello', c: 'wörld' } }));
    expect(s.data).toEqual({ a: 'eA==', b: 'aGVsbG8=', c: 'd8O2cmxk' });
    expect(s.stringData).toBeUndefined();
  });

  it.each([
    ['aGVsbG8=', -1],
    ['aGVs\nbG8=', -1],
    ['aGVsbG8', 4],
    ['aGV$bG8=', 3],
    ['a=Vs', 1],
  ])('base64 %j → offset %d', (value, offset) => {
    expect(base64ErrorOffset(value)).toBe(offset);
  });

  it('rejects data that is not base64 without echoing it', () => {
    expect(admit('', 'Secret', obj('v1', 'Secret', { data: { password: 'hunter2!' } }))).toEqual([
      'data[password]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 7',
    ]);
  });
});
