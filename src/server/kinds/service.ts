/**
 * core/v1 Service: SetDefaults_Service (pkg/apis/core/v1/defaults.go) plus the single-stack IPv4
 * family the registry fills in, ValidateService / ValidateServiceUpdate
 * (pkg/apis/core/validation) and printService; its write hooks (service-hooks.ts) allocate and
 * release ClusterIPs and NodePorts.
 */
import { isIP } from 'node:net';
import { TOPOLOGY_ANNOTATION, TRAFFIC_DISTRIBUTIONS, parseTopology } from '../../common/pools.ts';
import { child, list, map, maps, num, setDefault, str, type JsonMap } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { duplicate, immutable, invalid, notSupported, required } from './field-errors.ts';
import { formatLabels } from './label-selector.ts';
import { serviceHooks } from './service-hooks.ts';
import { isDns1123Label, isValidPortName, isValidPortNum } from './names.ts';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_DELETION_POLICY, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, conditions } from '../patch/merge-keys-core.ts';
import { assoc, atomic, map as mapSchema, struct } from '../patch/merge-keys.ts';
import { pathFields } from './selectable-fields.ts';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];

function defaultService(obj: KubeObject): void {
  const spec = child(obj, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = child(child(spec, 'sessionAffinityConfig'), 'clientIP');
    setDefault(cfg, 'timeoutSeconds', 10800);
  }
  for (const port of maps(spec.ports)) {
    setDefault(port, 'protocol', 'TCP');
    // TargetPort's zero value (int 0 or "") means "same as port".
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '')
      port.targetPort = port.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    // The registry's IP-family defaulting on a single-stack IPv4 cluster.
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'ipFamilies', ['IPv4']);
  }
}

function validatePorts(spec: JsonMap): FieldError[] {
  const errs: FieldError[] = [];
  const ports = maps(spec.ports);
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    const name = str(p.name) ?? '';
    if (ports.length > 1 && !name) errs.push(required(`${path}.name`));
    else if (name) {
      // ServicePort names are DNS-1123 labels (ValidateService); the IANA_SVC_NAME rule with its
      // "at least one letter" applies to container ports and targetPort names, not here.
      for (const msg of isDns1123Label(name)) errs.push(invalid(`${path}.name`, name, msg));
      if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
      names.add(name);
    }
    const port = num(p.port) ?? 0;
    for (const msg of isValidPortNum(port)) errs.push(invalid(`${path}.port`, port, msg));
    const protocol = str(p.protocol) ?? '';
    if (!protocol) errs.push(required(`${path}.protocol`));
    else if (!PROTOCOLS.includes(protocol)) errs.push(notSupported(`${path}.protocol`, protocol, PROTOCOLS));
    const target = p.targetPort;
    if (typeof target === 'number') for (const msg of isValidPortNum(target)) errs.push(invalid(`${path}.targetPort`, target, msg));
    else if (typeof target === 'string') for (const msg of isValidPortName(target)) errs.push(invalid(`${path}.targetPort`, target, msg));
    const nodePort = num(p.nodePort);
    if (nodePort !== undefined && nodePort !== 0) {
      if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer')
        errs.push(invalid(`${path}.nodePort`, nodePort, 'may not be used when `type` is \'ClusterIP\''));
      else for (const msg of isValidPortNum(nodePort)) errs.push(invalid(`${path}.nodePort`, nodePort, msg));
    }
    const key = `${port}/${protocol}`;
    if (seen.has(key)) errs.push(duplicate(path, { port, protocol }));
    seen.add(key);
  });
  return errs;
}

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = map(obj.spec) ?? {};
  const errs: FieldError[] = [];
  const type = str(spec.type) ?? '';
  if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  const clusterIP = str(spec.clusterIP) ?? '';
  const headless = clusterIP === 'None';
  if (type === 'ExternalName') {
    const externalName = str(spec.externalName) ?? '';
    if (!externalName) errs.push(required('spec.externalName'));
  } else if (!headless && list(spec.ports).length === 0) {
    errs.push(required('spec.ports'));
  }
  if (clusterIP && !headless && isIP(clusterIP) === 0)
    errs.push(invalid('spec.clusterIPs[0]', clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
    errs.push(invalid('spec.clusterIPs[0]', clusterIP, `may not be set to 'None' for ${type} services`));
  errs.push(...validatePorts(spec));
  const affinity = str(spec.sessionAffinity) ?? '';
  if (!AFFINITIES.includes(affinity)) errs.push(notSupported('spec.sessionAffinity', affinity, AFFINITIES));
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  for (const key of ['externalTrafficPolicy', 'internalTrafficPolicy'] as const) {
    const v = str(spec[key]);
    if (v !== undefined && !TRAFFIC_POLICIES.includes(v)) errs.push(notSupported(`spec.${key}`, v, TRAFFIC_POLICIES));
  }
  list(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip !== 'string' || isIP(ip) === 0) errs.push(invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  // Service topology (docs/pools.md): the node feed filters endpoints by these.
  const distribution = str(spec.trafficDistribution);
  if (distribution !== undefined && !(distribution in TRAFFIC_DISTRIBUTIONS)) errs.push(notSupported('spec.trafficDistribution', distribution, Object.keys(TRAFFIC_DISTRIBUTIONS)));
  const topology = map(map(obj.metadata)?.annotations)?.[TOPOLOGY_ANNOTATION];
  if (topology !== undefined) {
    const parsed = typeof topology === 'string' ? parseTopology(topology) : { error: 'must be a string' };
    if ('error' in parsed) errs.push(invalid(`metadata.annotations[${TOPOLOGY_ANNOTATION}]`, topology, parsed.error));
  }
  return errs;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const spec = map(obj.spec) ?? {};
  const before = map(old.spec) ?? {};
  // ValidateServiceUpdate: the cluster IP stays unless the service moves to/from ExternalName.
  if (spec.type === 'ExternalName' || before.type === 'ExternalName') return [];
  const now = str(spec.clusterIP) ?? '';
  const was = str(before.clusterIP) ?? '';
  return now && was && now !== was ? [immutable('spec.clusterIP', now)] : [];
}

/** getServiceExternalIP. */
function externalIP(spec: JsonMap, status: JsonMap, wide: boolean): string {
  const externalIPs = list(spec.externalIPs).map(String);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = maps(map(status.loadBalancer)?.ingress).map((i) => str(i.ip) || str(i.hostname) || '').filter(Boolean);
      let lb = ingress.join(',');
      if (!wide && lb.length > 16) lb = `${lb.slice(0, 13)}...`;
      const all = [...(lb ? [lb] : []), ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName) ?? '';
    default:
      return '<unknown>';
  }
}

/** makePortString. */
function portString(ports: JsonMap[]): string {
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) => {
      const protocol = str(p.protocol) ?? '';
      const nodePort = num(p.nodePort) ?? 0;
      return nodePort > 0 ? `${num(p.port) ?? 0}:${nodePort}/${protocol}` : `${num(p.port) ?? 0}/${protocol}`;
    })
    .join(',');
}

const serviceMergeKeys = kind({
  spec: struct({
    // +patchMergeKey=port +patchStrategy=merge +listType=map +listMapKey=port +listMapKey=protocol
    ports: assoc('port', struct({}), { keys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } }),
    selector: mapSchema(),
    clusterIPs: atomic(),
    externalIPs: atomic(),
    ipFamilies: atomic(),
    loadBalancerSourceRanges: atomic(),
  }),
  status: struct({ conditions, loadBalancer: struct({ ingress: atomic() }) }),
});

export const service = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Service',
  plural: 'services',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('', 'v1', 'Service')],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: defaultService,
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true, 'dns1035-label'), ...validateSpec(obj)];
    return [...validateObjectMetaUpdate(obj, old, true, 'dns1035-label'), ...validateSpec(obj), ...validateUpdate(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Type', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'The list of ports that are exposed by this service.'),
      AGE_COLUMN,
      col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      const status = map(obj.status) ?? {};
      // The server prints wide rows (the table convertor always asks for Wide), so no truncation.
      return [
        nameOf(obj),
        str(spec.type) ?? '',
        str(spec.clusterIP) || '<none>',
        externalIP(spec, status, true),
        portString(maps(spec.ports)),
        ageOf(obj, now),
        formatLabels(spec.selector),
      ];
    },
  },
  hooks: serviceHooks,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: pathFields('spec.clusterIP', 'spec.type'),
  mergeKeys: serviceMergeKeys,
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
